// `kurz users`: create, list, suspend or activate users, directly on the database.

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

constexpr const char* kUsersHelp = R"(Usage:
  kurz users create --email EMAIL [--tier free|pro|enterprise]
  kurz users list
  kurz users suspend ID
  kurz users activate ID
Common flags: --data DIR, --database URL

Works directly on the database. 'create' prints the new user's first API key once.
A running server sees suspensions at the next request for API keys; its redirect cache keeps
serving the user's links until the cache entry is evicted, so prefer the HTTP API
(PATCH /v1/users/{id}) on a live system.
)";

}  // namespace

int Users(int argc, char** argv) {
  if (WantsHelp(argc, argv, 2) || argc < 3) {
    std::fputs(kUsersHelp, argc < 3 ? stderr : stdout);
    return argc < 3 ? kExitUsage : 0;
  }
  const std::string action = argv[2];
  if (action != "create" && action != "list" && action != "suspend" && action != "activate") {
    return Fail("unknown users action '" + action + "' (create, list, suspend, activate)",
                kExitUsage);
  }
  auto flags = Flags::Parse(argc, argv, 3, AdminFlags({"email", "tier"}));
  if (!flags) return Fail(flags.error().detail, kExitUsage);
  auto backends = OpenForAdmin(*flags);
  if (!backends) return Fail("cannot open the database: " + backends.error().detail);
  SystemClock clock;
  service::RedirectCache cache(0, 0);
  service::AccountService accounts(*backends->accounts, cache, clock);

  if (action == "create") {
    auto email = flags->Get("email");
    if (!email) return Fail("--email is required", kExitUsage);
    auto created = accounts.CreateUser(*email, flags->Get("tier").value_or("free"));
    if (!created) return Fail(created.error().detail);
    std::printf("created user %lld (%s). Its API key, shown only this once:\n%s\n",
                static_cast<long long>(created->user.id), created->user.email.c_str(),
                created->first_key.secret.c_str());
    return 0;
  }
  if (action == "list") {
    auto users = accounts.ListUsers();
    if (!users) return Fail(users.error().detail);
    std::printf("%-6s %-32s %-11s %-10s %s\n", "ID", "EMAIL", "TIER", "STATUS", "CREATED");
    for (const core::User& u : *users) {
      std::printf("%-6lld %-32s %-11s %-10s %s\n", static_cast<long long>(u.id), u.email.c_str(),
                  u.tier.c_str(), std::string(core::ToString(u.status)).c_str(),
                  core::FormatRfc3339(u.created_at).c_str());
    }
    return 0;
  }
  if (flags->positional().size() != 1) return Fail("users " + action + " needs one ID", kExitUsage);
  auto id = ParseIntFlag("ID", flags->positional().front(), 1, INT64_MAX);
  if (!id) return Fail(id.error().detail, kExitUsage);
  service::Principal cli{0, 0, core::kAllPermissions};
  auto user = accounts.SetUserStatus(
      cli, *id, action == "activate" ? core::UserStatus::kActive : core::UserStatus::kSuspended);
  if (!user) return Fail(user.error().detail);
  std::printf("user %lld is now %s\n", static_cast<long long>(user->id),
              std::string(core::ToString(user->status)).c_str());
  return 0;
}

}  // namespace kurz::app
