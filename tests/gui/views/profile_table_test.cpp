// The profiles table: one row per head, a column per metric, numeric sorting with missing
// values below every number, and the text and bound filters.
#include <catch2/catch.hpp>

#include <QTableView>
#include <cmath>
#include <limits>

#include "views/profile_table_model.h"
#include "views/profile_table_view.h"

using namespace attnscope;
using namespace attnscope::views;

namespace {

// 2 layers x 2 heads: retrieval_score (NaN for L0H1), pattern text for every head.
std::vector<store::HeadMetric> metrics() {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  return {{0, 0, "retrieval_score", 0.10}, {0, 1, "retrieval_score", nan},  {1, 0, "retrieval_score", 0.90},
          {1, 1, "retrieval_score", 0.40}, {0, 0, "pattern", std::string("local")},
          {0, 1, "pattern", std::string("vertical_slash")}, {1, 0, "pattern", std::string("dense")},
          {1, 1, "pattern", std::string("vertical_slash")}};
}

// The heads of the view's rows, in its order, as "LxHy".
QStringList shown_heads(const ProfileTableView& view) {
  QStringList out;
  const auto* proxy = view.table()->model();
  for (int r = 0; r < proxy->rowCount(); ++r)
    out << QString("L%1H%2").arg(proxy->index(r, 0).data().toInt()).arg(proxy->index(r, 1).data().toInt());
  return out;
}

}  // namespace

TEST_CASE("the profile table has a row per head and a column per metric in name order", "[gui][profiles]") {
  ProfileTableModel m;
  m.setMetrics(metrics(), 2, 2);
  REQUIRE(m.rowCount() == 4);
  REQUIRE(m.columnCount() == 4);
  REQUIRE(m.headerData(2, Qt::Horizontal, Qt::DisplayRole).toString() == "pattern");
  REQUIRE(m.headerData(3, Qt::Horizontal, Qt::DisplayRole).toString() == "retrieval_score");
  REQUIRE(m.data(m.index(2, 3), Qt::DisplayRole).toString() == "0.9000");  // L1H0
  REQUIRE(m.data(m.index(1, 3), Qt::DisplayRole).toString() == "n/a");
  REQUIRE(std::isnan(m.number(1, 3)));
  REQUIRE(m.data(m.index(3, 2), Qt::DisplayRole).toString() == "vertical_slash");
}

TEST_CASE("sorting by a metric puts the highest first descending and heads without a value last", "[gui][profiles]") {
  ProfileTableView view;
  view.setMetrics("run", metrics(), 2, 2);
  view.table()->sortByColumn(3, Qt::DescendingOrder);
  REQUIRE(shown_heads(view) == QStringList{"L1H0", "L1H1", "L0H0", "L0H1"});
  view.table()->sortByColumn(3, Qt::AscendingOrder);
  REQUIRE(shown_heads(view) == QStringList{"L0H1", "L0H0", "L1H1", "L1H0"});
}

TEST_CASE("the text filter keeps the heads with a matching cell", "[gui][profiles]") {
  ProfileTableView view;
  view.setMetrics("run", metrics(), 2, 2);
  view.setFilterText("VERTICAL");
  REQUIRE(shown_heads(view) == QStringList{"L0H1", "L1H1"});
  REQUIRE(view.shownRows() == 2);
}

TEST_CASE("a lower bound on a metric drops smaller and missing values", "[gui][profiles]") {
  ProfileTableView view;
  view.setMetrics("run", metrics(), 2, 2);
  view.setMinimum("retrieval_score", 0.4);
  REQUIRE(shown_heads(view) == QStringList{"L1H0", "L1H1"});  // 0.9 and 0.4 (inclusive); the NaN head is out
  view.setMinimum("", 0);
  REQUIRE(view.shownRows() == 4);
}
