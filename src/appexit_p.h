// SPDX-License-Identifier: MIT
#pragma once

// The application's end, at the bottom of the library: it includes nothing
// of QtOffload. Each part that has something to stop when the
// QCoreApplication is destroyed registers a step here (the separate threads,
// the main thread's delivery lane, the jobs on QThreadPools); the
// application's destruction closes the main event loop for invokeBlocking()
// and then runs the steps, in the order they were registered.

namespace QtOffload::detail {

using ExitStep = void (*)();

//! Runs \a step as every QCoreApplication from now on is destroyed; a step registered twice runs once. Thread: any.
void atApplicationExit(ExitStep step);

/*!
  Follows the current QCoreApplication, if any: for a new one, the main
  event loop is open again and the exit steps will run at its destruction.
  Thread: any.
*/
void watchApplication();

//! True from the application's destruction (or an Entrypoint's shutdown) on: no call into the main loop can run.
bool mainEventLoopClosed() noexcept;
void setMainEventLoopClosed(bool closed) noexcept;

} // namespace QtOffload::detail
