#pragma once

#include <cstdint>
#include <string_view>

namespace kurz::adapters::redis {

constexpr std::uint16_t kClusterSlots = 16384;

// CRC-16/XMODEM (polynomial 0x1021, initial value 0), the checksum Redis Cluster hashes keys with.
std::uint16_t Crc16(std::string_view data);

// The cluster slot of key: CRC16 of the key modulo 16384, or of its hash tag, the part between
// the first '{' and the next '}' when that part is not empty, so that "{user1000}.following" and
// "{user1000}.followers" land on the same node.
std::uint16_t KeySlot(std::string_view key);

}  // namespace kurz::adapters::redis
