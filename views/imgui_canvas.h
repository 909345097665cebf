#pragma once
// A QOpenGLWidget that hosts its own Dear ImGui context, drawn with ImGui's OpenGL 3
// renderer (Debian's libimgui ships it). Subclasses draw one frame at a time with ImGui
// calls; Qt's mouse events reach ImGui (hover, tooltips) and the subclass. Frames are
// drawn only when something changed: after input, on request, or while a subclass
// animates; nothing repaints at rest.
#include <QElapsedTimer>
#include <QOpenGLFunctions>
#include <QOpenGLWidget>
#include <QTimer>
#include <cstdint>

#include "views/frame_pacer.h"

struct ImGuiContext;

namespace attnscope::views {

class ImGuiCanvas : public QOpenGLWidget, protected QOpenGLFunctions {
  Q_OBJECT

 public:
  explicit ImGuiCanvas(QWidget* parent = nullptr);
  ~ImGuiCanvas() override;

  // Frames drawn so far, and the CPU time of the last one's drawing, in milliseconds.
  int64_t framesDrawn() const { return frames_; }
  double lastFrameMilliseconds() const { return last_frame_ms_; }
  // False until OpenGL works in this widget (never on platforms without it, e.g. offscreen).
  bool glReady() const { return gl_ready_; }
  // Whether this platform can make an OpenGL context and composite an OpenGL widget. A
  // window must not hold a QOpenGLWidget where it cannot (Qt's offscreen platform crashes
  // flushing it).
  static bool openGlAvailable();

 protected:
  // Draws one frame into ImGui's draw lists (the context is current). `seconds`: time
  // since the previous frame. Returns true to ask for the next frame (an animation).
  virtual bool drawFrame(double seconds) = 0;
  // The GL context is current and about to go: free the subclass's textures.
  virtual void releaseGl() {}
  // Asks for `count` more frames (ImGui needs a frame or two to settle after input).
  void requestFrames(int count = 2);
  // Frees the GL side (releaseGl, ImGui's renderer) with the context current. Subclasses
  // that own textures call it from their destructor, while releaseGl is still theirs.
  void shutdownGl();

  void initializeGL() override;
  void paintGL() override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void leaveEvent(QEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  ImGuiContext* imgui_ = nullptr;
  bool gl_ready_ = false;
  int pending_frames_ = 0;
  int64_t frames_ = 0;
  double last_frame_ms_ = 0;
  QElapsedTimer clock_;
  qint64 last_frame_ns_ = 0;
  FramePacer pacer_;  // 60 frames a second while animating
  QTimer next_frame_;
};

}  // namespace attnscope::views
