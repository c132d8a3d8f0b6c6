// `kurz keys`: create, list or revoke a user's API keys, directly on the database.

#include <cstdint>
#include <cstdio>
#include <string>

#include "app/commands/command.hpp"
#include "core/account.hpp"
#include "core/time.hpp"
#include "service/account_service.hpp"
#include "service/redirect_cache.hpp"

namespace kurz::app {
namespace {

constexpr const char* kKeysHelp = R"(Usage:
  kurz keys create --user ID [--name NAME] [--permissions create,read,delete,admin]
  kurz keys list --user ID
  kurz keys revoke KEY_ID --user ID
Common flags: --data DIR, --database URL

Works directly on the database; the full key is printed once by 'create'.
)";

core::Result<std::int64_t> RequiredId(const Flags& flags, const std::string& name) {
  auto v = flags.Get(name);
  if (!v) return core::Fail(core::ErrorCode::kInvalidArgument, "--" + name + " is required");
  return ParseIntFlag(name, *v, 1, INT64_MAX);
}

core::Result<core::Permissions> ParsePermissionList(const std::string& text) {
  core::Permissions perms = 0;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    auto p = core::ParsePermission(std::string_view(text).substr(start, comma - start));
    if (!p) return std::unexpected(p.error());
    perms |= *p;
    if (comma == std::string::npos) return perms;
    start = comma + 1;
  }
}

}  // namespace

int Keys(int argc, char** argv) {
  if (WantsHelp(argc, argv, 2) || argc < 3) {
    std::fputs(kKeysHelp, argc < 3 ? stderr : stdout);
    return argc < 3 ? kExitUsage : 0;
  }
  const std::string action = argv[2];
  auto flags = Flags::Parse(argc, argv, 3, AdminFlags({"user", "name", "permissions"}));
  if (!flags) return Fail(flags.error().detail, kExitUsage);
  auto user = RequiredId(*flags, "user");
  if (!user) return Fail(user.error().detail, kExitUsage);
  if (action != "create" && action != "list" && action != "revoke") {
    return Fail("unknown keys action '" + action + "' (create, list, revoke)", kExitUsage);
  }
  auto backends = OpenForAdmin(*flags);
  if (!backends) return Fail("cannot open the database: " + backends.error().detail);
  SystemClock clock;
  service::RedirectCache cache(0, 0);
  service::AccountService accounts(*backends->accounts, cache, clock);
  auto owner = backends->accounts->FindUser(*user);
  if (!owner) return Fail("no user with id " + std::to_string(*user));
  // The CLI acts with the owner's full rights: it has the database file.
  service::Principal who{*user, 0, core::kAllPermissions};

  if (action == "create") {
    core::Permissions perms = core::kDefaultUserPermissions;
    if (auto p = flags->Get("permissions")) {
      auto parsed = ParsePermissionList(*p);
      if (!parsed) return Fail(parsed.error().detail, kExitUsage);
      perms = *parsed;
    }
    auto created = accounts.CreateKey(who, flags->Get("name").value_or(""), perms);
    if (!created) return Fail(created.error().detail);
    std::printf("created key %lld (prefix %s). The key, shown only this once:\n%s\n",
                static_cast<long long>(created->key.id), created->key.prefix.c_str(),
                created->secret.c_str());
    return 0;
  }
  if (action == "list") {
    auto keys = accounts.ListKeys(who);
    if (!keys) return Fail(keys.error().detail);
    std::printf("%-6s %-10s %-24s %-22s %s\n", "ID", "PREFIX", "NAME", "CREATED", "STATE");
    for (const core::ApiKey& k : *keys) {
      std::printf("%-6lld %-10s %-24s %-22s %s\n", static_cast<long long>(k.id), k.prefix.c_str(),
                  k.name.c_str(), core::FormatRfc3339(k.created_at).c_str(),
                  k.revoked_at ? "revoked" : "active");
    }
    return 0;
  }
  if (flags->positional().size() != 1) return Fail("keys revoke needs one KEY_ID", kExitUsage);
  auto id = ParseIntFlag("KEY_ID", flags->positional().front(), 1, INT64_MAX);
  if (!id) return Fail(id.error().detail, kExitUsage);
  auto revoked = accounts.RevokeKey(who, *id);
  if (!revoked) return Fail(revoked.error().detail);
  std::printf("revoked key %lld\n", static_cast<long long>(*id));
  return 0;
}

}  // namespace kurz::app
