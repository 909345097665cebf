#include "views/imgui_canvas.h"

#include <QGuiApplication>
#include <QMouseEvent>
#include <QOffscreenSurface>
#include <QOpenGLContext>
#include <QWheelEvent>
#include <cfloat>

#include "backends/imgui_impl_opengl3.h"
#include "imgui.h"

namespace attnscope::views {
namespace {

int imgui_button(Qt::MouseButton button) {
  switch (button) {
    case Qt::LeftButton: return 0;
    case Qt::RightButton: return 1;
    case Qt::MiddleButton: return 2;
    default: return -1;
  }
}

}  // namespace

bool ImGuiCanvas::openGlAvailable() {
  static const bool available = [] {
    // These platforms cannot composite a QOpenGLWidget even where they make a context
    // (offscreen does, through GLX, when DISPLAY is set): Qt crashes flushing one.
    const QString platform = QGuiApplication::platformName();
    if (platform == "offscreen" || platform == "minimal" || platform == "vnc" || platform == "linuxfb") return false;
    QOpenGLContext context;
    if (!context.create()) return false;
    QOffscreenSurface surface;
    surface.create();
    return surface.isValid() && context.makeCurrent(&surface);
  }();
  return available;
}

ImGuiCanvas::ImGuiCanvas(QWidget* parent) : QOpenGLWidget(parent) {
  setMouseTracking(true);
  setFocusPolicy(Qt::StrongFocus);
  IMGUI_CHECKVERSION();
  ImGuiContext* previous = ImGui::GetCurrentContext();
  imgui_ = ImGui::CreateContext();
  ImGui::SetCurrentContext(imgui_);
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // window layout lives in QSettings, not imgui.ini
  io.LogFilename = nullptr;
  ImGui::StyleColorsDark();
  ImGui::SetCurrentContext(previous);
  clock_.start();
  next_frame_.setSingleShot(true);
  next_frame_.setTimerType(Qt::PreciseTimer);
  // repaint, not update: update() waits for the window's next update request (5 ms on
  // xcb), which the pacer's grid would otherwise absorb as lateness every frame.
  connect(&next_frame_, &QTimer::timeout, this, [this] { repaint(); });
}

ImGuiCanvas::~ImGuiCanvas() {
  shutdownGl();
  if (context() != nullptr) disconnect(context(), nullptr, this, nullptr);
  ImGui::DestroyContext(imgui_);
}

void ImGuiCanvas::shutdownGl() {
  if (!gl_ready_) return;
  makeCurrent();
  ImGui::SetCurrentContext(imgui_);
  releaseGl();
  ImGui_ImplOpenGL3_Shutdown();
  doneCurrent();
  gl_ready_ = false;
}

void ImGuiCanvas::initializeGL() {
  initializeOpenGLFunctions();
  ImGui::SetCurrentContext(imgui_);
  // GLSL 1.30 runs on every desktop context Qt gives (OpenGL 3.0 and up, core or not).
  gl_ready_ = ImGui_ImplOpenGL3_Init("#version 130");
  // Moving the widget to another window (a dock floated) replaces the GL context.
  connect(context(), &QOpenGLContext::aboutToBeDestroyed, this, &ImGuiCanvas::shutdownGl, Qt::UniqueConnection);
}

void ImGuiCanvas::requestFrames(int count) {
  pending_frames_ = std::max(pending_frames_, count);
  update();
}

void ImGuiCanvas::paintGL() {
  if (!gl_ready_) return;
  ImGui::SetCurrentContext(imgui_);
  ImGuiIO& io = ImGui::GetIO();
  const qint64 now = clock_.nsecsElapsed();
  pacer_.frameStarted(now);
  const double seconds = frames_ == 0 ? 1.0 / 60 : double(now - last_frame_ns_) * 1e-9;
  last_frame_ns_ = now;
  io.DeltaTime = float(std::max(seconds, 1e-4));
  io.DisplaySize = ImVec2(float(width()), float(height()));
  const float ratio = float(devicePixelRatioF());
  io.DisplayFramebufferScale = ImVec2(ratio, ratio);

  QElapsedTimer draw_clock;
  draw_clock.start();
  ImGui_ImplOpenGL3_NewFrame();
  ImGui::NewFrame();
  const bool animating = drawFrame(seconds);
  ImGui::Render();
  last_frame_ms_ = double(draw_clock.nsecsElapsed()) * 1e-6;

  glViewport(0, 0, int(width() * ratio), int(height() * ratio));
  glClearColor(0.09f, 0.09f, 0.10f, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  ++frames_;
  io.MouseWheel = 0;

  if (pending_frames_ > 0) --pending_frames_;
  if (animating || pending_frames_ > 0) next_frame_.start(pacer_.delayMs(clock_.nsecsElapsed()));
}

void ImGuiCanvas::mouseMoveEvent(QMouseEvent* event) {
  ImGui::SetCurrentContext(imgui_);
  ImGui::GetIO().MousePos = ImVec2(float(event->position().x()), float(event->position().y()));
  requestFrames();
}

void ImGuiCanvas::mousePressEvent(QMouseEvent* event) {
  ImGui::SetCurrentContext(imgui_);
  if (const int b = imgui_button(event->button()); b >= 0) ImGui::GetIO().MouseDown[b] = true;
  requestFrames();
}

void ImGuiCanvas::mouseReleaseEvent(QMouseEvent* event) {
  ImGui::SetCurrentContext(imgui_);
  if (const int b = imgui_button(event->button()); b >= 0) ImGui::GetIO().MouseDown[b] = false;
  requestFrames();
}

void ImGuiCanvas::wheelEvent(QWheelEvent* event) {
  ImGui::SetCurrentContext(imgui_);
  ImGui::GetIO().MouseWheel += float(event->angleDelta().y()) / 120.0f;
  requestFrames();
}

void ImGuiCanvas::leaveEvent(QEvent* event) {
  ImGui::SetCurrentContext(imgui_);
  ImGui::GetIO().MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
  requestFrames();
  QOpenGLWidget::leaveEvent(event);
}

void ImGuiCanvas::resizeEvent(QResizeEvent* event) {
  QOpenGLWidget::resizeEvent(event);
  requestFrames();
}

}  // namespace attnscope::views
