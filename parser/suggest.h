// "did you mean ...?" for misspelt keys and names.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace topo {

/// The candidate closest to `word` by edit distance (a swap of two neighbours counts
/// once), if it is close enough to be what the user meant.
std::optional<std::string> closest(std::string_view word, const std::vector<std::string_view>& candidates);

/// " (did you mean 'x'?)" or "" — ready to append to a message.
std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace topo
