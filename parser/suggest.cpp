#include "parser/suggest.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace topo {
namespace {

// Optimal string alignment distance, case-insensitive: "Adress" is one edit from "address".
size_t distance(std::string_view a, std::string_view b) {
  auto eq = [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  };
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = eq(a[i - 1], b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && eq(a[i - 1], b[j - 2]) && eq(a[i - 2], b[j - 1]))
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::optional<std::string> closest(std::string_view word, const std::vector<std::string_view>& candidates) {
  // Short words tolerate one edit, longer ones half their length: "sctp" must not suggest
  // "tcp", but "adress" (three edits away) should suggest "addresses".
  size_t limit = word.size() <= 4 ? 1 : word.size() / 2;
  std::optional<std::string> best;
  size_t best_distance = limit + 1;
  for (std::string_view c : candidates) {
    size_t dist = distance(word, c);
    // A prefix typed in full ("addr" for "addresses") is also a good guess.
    if (word.size() >= 3 && c.size() > word.size() && c.substr(0, word.size()) == word) dist = std::min(dist, limit);
    if (dist < best_distance) {
      best_distance = dist;
      best = std::string(c);
    }
  }
  return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates) {
  auto c = closest(word, candidates);
  return c ? fmt::format(" (did you mean '{}'?)", *c) : std::string();
}

}  // namespace topo
