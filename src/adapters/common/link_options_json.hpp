#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/link.hpp"

namespace kurz::adapters {

// urls.options: the options of a link that nothing queries by, as one JSON object
// {"password_hash", "expired_url", "rules", "variants", "og"} (keys left out when unset; times in
// microseconds since the epoch). A link with none of them stores NULL (HasNoStoredOptions).

// Whether the link carries none of the options kept in urls.options.
bool HasNoStoredOptions(const core::Link& link);

// The JSON text of link's stored options ("" when it has none: the column is NULL).
std::string EncodeLinkOptions(const core::Link& link);

// Fills link's stored options from a column's JSON text ("" or NULL: none). internal when the
// text is not what EncodeLinkOptions writes (a row changed by hand): the caller reports it
// instead of crashing.
core::Result<void> DecodeLinkOptions(std::string_view text, core::Link& link);

// link.tags as the rows url_tags gets, for a statement that inserts them all at once: a JSON
// array of [tag, tag_key] in order, a tag whose key an earlier one has left out (the first
// spelling is kept).
std::string EncodeTagRows(const core::Link& link);

// Fills link.tags from the stores' aggregate of url_tags rows, a JSON array of [position, tag]
// pairs in any order ("" or NULL: no tags); tags come out in position order. internal when the
// text is not such an array.
core::Result<void> DecodeTags(std::string_view text, core::Link& link);

}  // namespace kurz::adapters
