#include "analysis/store/run_resume.h"

#include "analysis/store/run_records.h"
#include "kernels/error.h"

namespace attnscope::store {

void reopen_run(const Database& db, RunId run) {
  const std::string where = db.where() + ": run " + to_string(run);
  Transaction transaction(db);  // the check and the update see the same state
  const RunRecord record = get_run(db, run);
  if (record.status == RunStatus::Complete) throw Error(where, "is complete: there is nothing to resume");
  if (record.status == RunStatus::Running)
    throw Error(where, "is still running (pid " + std::to_string(record.owner.pid) + " on " + record.owner.host +
                           "); stop it before resuming");
  const ProcessIdentity owner = this_process();
  auto update = db.prepare(
      "UPDATE runs SET status = 'running', ended_ms = NULL, error = '', owner_host = ?2, owner_pid = ?3, "
      "owner_start = ?4 WHERE id = ?1");
  update.bind(1, int64_t(run)).bind(2, owner.host).bind(3, owner.pid).bind(4, owner.start);
  update.run("reopen run " + to_string(run));
  transaction.commit();
}

}  // namespace attnscope::store
