#include "adapters/memory/open.hpp"

#include <memory>

#include "adapters/memory/account_store.hpp"
#include "adapters/memory/click_store.hpp"
#include "adapters/memory/link_store.hpp"
#include "adapters/memory/settings_store.hpp"

namespace kurz::adapters::memory {
namespace {

struct Bundle {
  MemoryAccountStore accounts;
  MemoryLinkStore links{accounts};
  MemorySettingsStore settings;
  MemoryClickStore clicks{links};
};

}  // namespace

core::Result<Database> OpenDatabase(std::string_view /*url*/, const DatabaseOptions& /*options*/) {
  auto bundle = std::make_shared<Bundle>();
  Database out;
  out.links = &bundle->links;
  out.accounts = &bundle->accounts;
  out.settings = &bundle->settings;
  out.click_log = &bundle->clicks;
  out.stats = &bundle->clicks;
  out.description = "memory (nothing is kept after exit)";
  out.ping = [] { return core::Result<void>{}; };
  out.owner = std::move(bundle);
  return out;
}

core::Result<SharedTier> OpenSharedTier(std::string_view /*url*/, const CacheOptions& /*options*/) {
  return SharedTier{};
}

}  // namespace kurz::adapters::memory
