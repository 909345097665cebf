#pragma once
// Resuming a run: a batch that was interrupted (Ctrl-C), failed or killed goes on adding
// the units it had not completed to the same run, which is reopened: 'running' again,
// owned by this process, its end time and error cleared. The units it holds stay.
#include "analysis/store/database.h"
#include "analysis/store/ids.h"

namespace attnscope::store {

// In one transaction. attnscope::Error naming the file and the run when there is no such
// run, when it is complete (nothing to resume), or when it is still running in a process
// that lives (or on another host, where that cannot be checked).
void reopen_run(const Database& db, RunId run);

}  // namespace attnscope::store
