// Frame rate of the attention map on a 32K-token head (issue 8: smooth at 60 frames a
// second), on whatever OpenGL the display offers (Mesa's software renderer under Xvfb on
// the development machines). Per zoom level, from the whole context to 64 px a token:
//   cpu ms    the canvas's own work per frame (ImGui lists, texture uploads);
//   frame ms  a whole frame back to back (draw, the GL renderer, compositing, swap):
//             the rate the display path could sustain;
// then an animated zoom (wheel notches every 40 ms, as a user scrolls) paced by the
// canvas: frames a second actually drawn, beside the 60 Hz target.
//
//   xvfb-run -a -s "-screen 0 1600x1200x24" build/bench/map_frame_bench [--size 1200x900] [--png DIR]
// --png saves each zoom level's frame (to look at what was timed).
#include <QApplication>
#include <QElapsedTimer>
#include <QTest>
#include <QWheelEvent>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "tests/gui/display/synthetic_map.h"
#include "views/attention_map_canvas.h"

using namespace attnscope::views;

namespace {

void settle(AttentionMapCanvas& canvas) {
  for (int i = 0; i < 200 && (canvas.missingTiles() > 0 || canvas.animating() || i < 3); ++i) {
    canvas.update();
    QTest::qWait(5);
  }
}

// Mean wall time of `frames` whole frames drawn back to back, in ms: each asked for as
// soon as the previous one was drawn (QT_QPA_UPDATE_IDLE_TIME=0: no update delay).
double back_to_back_ms(AttentionMapCanvas& canvas, int frames) {
  QElapsedTimer clock;
  clock.start();
  for (int i = 0; i < frames; ++i) {
    const int64_t before = canvas.framesDrawn();
    canvas.update();
    while (canvas.framesDrawn() == before) QCoreApplication::processEvents();
  }
  return double(clock.nsecsElapsed()) * 1e-6 / frames;
}

}  // namespace

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "xcb");
  qputenv("QT_QPA_UPDATE_IDLE_TIME", "0");  // widget updates at once, for the back-to-back frames
  QApplication app(argc, argv);
  int width = 1200, height = 900;
  QString png_dir;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--size") == 0 && std::sscanf(argv[i + 1], "%dx%d", &width, &height) != 2) {
      std::fprintf(stderr, "map_frame_bench: --size wants WIDTHxHEIGHT, got '%s'\n", argv[i + 1]);
      return 2;
    }
    if (std::strcmp(argv[i], "--png") == 0) png_dir = QString::fromLocal8Bit(argv[i + 1]);
  }
  if (!ImGuiCanvas::openGlAvailable()) {
    std::fprintf(stderr, "map_frame_bench: no OpenGL on this display (run it under xvfb-run or on a desktop)\n");
    return 2;
  }
  const testing::SyntheticHead head;
  AttentionMapCanvas canvas;
  canvas.resize(width, height);
  canvas.show();
  if (!QTest::qWaitForWindowExposed(&canvas)) {
    std::fprintf(stderr, "map_frame_bench: the window was never shown\n");
    return 2;
  }
  testing::serve_synthetic_tiles(canvas);
  canvas.setHead(head.map(), head.labels);
  canvas.makeCurrent();
  const auto* renderer = reinterpret_cast<const char*>(canvas.context()->functions()->glGetString(GL_RENDERER));
  std::printf("map of %lld tokens, %dx%d px, OpenGL renderer: %s\n\n", (long long)testing::SyntheticHead::kTokens,
              width, height, renderer != nullptr ? renderer : "?");
  canvas.doneCurrent();
  std::printf("| tokens in view | px/token | cpu ms | frame ms | frames/s back to back | target |\n");
  std::printf("|---|---|---|---|---|---|\n");
  const double n = double(testing::SyntheticHead::kTokens), centre = 20000;
  for (double span = n; span >= 8; span /= 4) {
    canvas.showWindow(centre - span / 2, centre + span / 2, centre - span / 2, centre + span / 2);
    settle(canvas);
    const double frame_ms = back_to_back_ms(canvas, 60);
    if (!png_dir.isEmpty()) {
      const QString path = png_dir + QString("/map_%1.png").arg(qint64(span));
      if (!canvas.grabFramebuffer().save(path)) std::fprintf(stderr, "map_frame_bench: cannot write %s\n", qPrintable(path));
    }
    std::printf("| %.0f | %.3f | %.2f | %.2f | %.0f | 60 |\n", span, canvas.viewport().pixels_per_token(),
                canvas.lastFrameMilliseconds(), frame_ms, 1000.0 / frame_ms);
  }

  canvas.fitMap();
  settle(canvas);
  QElapsedTimer clock;
  clock.start();
  const int64_t first = canvas.framesDrawn();
  double worst_cpu = 0;
  for (int notch = 0; notch < 48; ++notch) {  // toward single tokens, then back out
    const int delta = notch < 24 ? 120 : -120;
    QWheelEvent wheel(QPointF(width / 2.0, height / 2.0), canvas.mapToGlobal(QPointF(width / 2.0, height / 2.0)), {},
                      {0, delta}, Qt::NoButton, {}, Qt::NoScrollPhase, false);
    QCoreApplication::sendEvent(&canvas, &wheel);
    QTest::qWait(40);
    worst_cpu = std::max(worst_cpu, canvas.lastFrameMilliseconds());
  }
  const double seconds = double(clock.nsecsElapsed()) * 1e-9;
  std::printf("\nanimated zoom (48 wheel notches, 40 ms apart): %.1f frames a second drawn (target 60), "
              "worst cpu %.2f ms\n",
              double(canvas.framesDrawn() - first) / seconds, worst_cpu);
  return 0;
}
