// The session's mask lab on the sample model: per-head results, end to end, the latest
// request winning over the ones before it, the shown head's kept set, curves.
#include <catch2/catch.hpp>

#include <QSignalSpy>

#include "app/gui/session.h"

using namespace attnscope;
using namespace attnscope::gui;

namespace {

const QString kSample = QString(ATTNSCOPE_SAMPLE_DATA_DIR) + "/sample-llama";
const QString kPrompt =
    "The quick brown fox jumps over the lazy dog. The pass key is 71432. Remember it. 71432 is the pass key. What "
    "is the pass key? The pass key is";
constexpr int kWaitMs = 120000;

struct RunSession {
  Session session{DeviceChoice::Cpu};
  std::shared_ptr<const RunResult> run;
  RunSession() {
    QSignalSpy opened(&session, &Session::modelOpened);
    session.openModel(kSample);
    REQUIRE(opened.wait(kWaitMs));
    QSignalSpy finished(&session, &Session::runFinished);
    session.run(kPrompt, {0, 0});
    REQUIRE(finished.wait(kWaitMs));
    run = finished.front().front().value<std::shared_ptr<const RunResult>>();
  }
  std::shared_ptr<const masks::MaskPlan> plan(double density) const {
    return std::make_shared<masks::MaskPlan>(8, 8, masks::HeadMask{masks::WindowMask{}, density});
  }
};

}  // namespace

TEST_CASE("a mask evaluation reports every head and then its end-to-end numbers", "[gui][session][masks]") {
  RunSession s;
  QSignalSpy evaluated(&s.session, &Session::masksEvaluated);
  QSignalSpy e2e(&s.session, &Session::masksEndToEnd);
  s.session.evaluateMasks({s.run->id, s.plan(0.5), true});
  REQUIRE(e2e.wait(kWaitMs));
  REQUIRE(evaluated.size() == 1);
  const auto evaluation = evaluated.front().front().value<std::shared_ptr<const MaskEvaluation>>();
  REQUIRE(evaluation->heads.size() == 64);
  REQUIRE(evaluation->summary.density == Approx(0.5).margin(0.05));  // whole tokens of window
  REQUIRE(e2e.front()[0].toULongLong() == evaluation->request);
  const auto result = e2e.front()[1].value<masks::EndToEnd>();
  REQUIRE(result.positions == s.run->rows());
  REQUIRE(result.kl_mean > 0);  // half the keys gone changes the logits
}

TEST_CASE("of requests made in a row the last one is the one answered last", "[gui][session][masks]") {
  RunSession s;
  QSignalSpy evaluated(&s.session, &Session::masksEvaluated);
  for (double d : {0.2, 0.3, 0.4, 0.6}) s.session.evaluateMasks({s.run->id, s.plan(d), false});
  while (evaluated.isEmpty() ||
         evaluated.back().front().value<std::shared_ptr<const MaskEvaluation>>()->plan->at({0, 0}).density != 0.6)
    REQUIRE(evaluated.wait(kWaitMs));
  // Superseded requests stop early or are dropped while they wait: at most the one under way answers before.
  REQUIRE(evaluated.size() <= 2);
}

TEST_CASE("the shown head's kept set covers the run's rows", "[gui][session][masks]") {
  RunSession s;
  QSignalSpy ready(&s.session, &Session::maskOverlayReady);
  s.session.requestMaskOverlay({s.run->id, 7, 2, masks::HeadMask{masks::StreamingMask{}, 0.3}});
  REQUIRE(ready.wait(kWaitMs));
  const auto overlay = ready.front().front().value<std::shared_ptr<const MaskOverlay>>();
  REQUIRE(overlay->layer == 7);
  REQUIRE(overlay->kept->rows() == s.run->rows());
  REQUIRE(overlay->mask.find("streaming") == 0);
}

TEST_CASE("curves come back one per family", "[gui][session][masks]") {
  RunSession s;
  QSignalSpy finished(&s.session, &Session::sweepFinished);
  s.session.sweepMasks({s.run->id, {{masks::StreamingMask{}, std::nullopt}, {masks::BlockTopKMask{}, std::nullopt}},
                        {0.3, 0.6}});
  REQUIRE(finished.wait(kWaitMs));
  const auto curves = finished.front().front().value<std::shared_ptr<const std::vector<SweepCurve>>>();
  REQUIRE(curves->size() == 2);
  REQUIRE(curves->at(1).family == "block_topk");
}

TEST_CASE("a request for a run that is no longer the last is dropped", "[gui][session][masks]") {
  RunSession s;
  QSignalSpy evaluated(&s.session, &Session::masksEvaluated);
  QSignalSpy failed(&s.session, &Session::masksFailed);
  s.session.evaluateMasks({s.run->id + 100, s.plan(0.5), false});
  REQUIRE_FALSE(evaluated.wait(1500));  // the worker answers nothing for it
  REQUIRE(failed.isEmpty());
  s.session.evaluateMasks({s.run->id, s.plan(0.5), false});
  REQUIRE(evaluated.wait(kWaitMs));
}

TEST_CASE("a per-head plan is built on the worker from the recorded heads, with a head's own mask",
          "[gui][session][masks]") {
  RunSession s;
  QSignalSpy evaluated(&s.session, &Session::masksEvaluated);
  masks::PlanChoice duo;
  duo.method = "duo";
  duo.params = {"sink_tokens=4", "window=16", "sparsity=0.5"};
  duo.head_masks = {{{7, 2}, masks::HeadMask{masks::TopKMask{8}, std::nullopt}}};
  s.session.evaluateMasks({s.run->id, nullptr, false, duo});
  REQUIRE(evaluated.wait(kWaitMs));
  const auto evaluation = evaluated.front().front().value<std::shared_ptr<const MaskEvaluation>>();
  REQUIRE(evaluation->choice == duo);
  REQUIRE(evaluation->plan);
  REQUIRE(std::holds_alternative<masks::TopKMask>(evaluation->plan->at({7, 2}).family));
  int streaming = 0;
  for (int l = 0; l < 8; ++l)
    for (int h = 0; h < 8; ++h)
      streaming += std::holds_alternative<masks::StreamingMask>(evaluation->plan->at({l, h}).family);
  // Half of the 16 KV groups (4 query heads each) streaming, less head 7.2 when its group (heads 0-3) is one.
  const bool group_streams = std::holds_alternative<masks::StreamingMask>(evaluation->plan->at({7, 0}).family);
  REQUIRE(streaming == (group_streams ? 31 : 32));
  REQUIRE(evaluation->heads.size() == 64);
}
