#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/postgres/database.hpp"
#include "ports/account_store.hpp"

namespace kurz::adapters::postgres {

using core::Result;

// Users in `users` (emails unique ignoring case), keys in `api_keys` (permissions as a JSONB
// object). The database must outlive the store.
class PostgresAccountStore final : public ports::AccountStore {
 public:
  explicit PostgresAccountStore(PostgresDatabase& db) : db_(db) {}

  // Besides the port's errors: invalid_argument for a tier other than free, pro or enterprise.
  Result<std::pair<core::User, core::ApiKey>> CreateUser(const core::User& user,
                                                         const core::ApiKey& first_key) override;
  Result<core::User> FindUser(std::int64_t id) override;
  Result<std::vector<core::User>> ListUsers() override;
  Result<core::User> SetUserStatus(std::int64_t id, core::UserStatus status) override;
  Result<std::int64_t> CountUsers() override;
  Result<core::ApiKey> CreateKey(const core::ApiKey& key) override;
  Result<std::vector<core::ApiKey>> ListKeys(std::int64_t user_id) override;
  Result<void> RevokeKey(std::int64_t key_id, std::int64_t user_id, core::Micros at) override;
  Result<core::KeyOwner> FindKeyByHash(std::string_view key_hash) override;

 private:
  PostgresDatabase& db_;
};

}  // namespace kurz::adapters::postgres
