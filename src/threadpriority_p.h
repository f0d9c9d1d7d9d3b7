// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/priority.h>

namespace QtOffload::detail {

/*!
  The scheduling of the thread that makes a pool, which its Normal priority
  returns to; on Linux its nice value (threads inherit it from the thread
  that starts them, so a worker started by a Background worker would not
  know it).
*/
struct BaseScheduling
{
    int nice = 0;
    static BaseScheduling ofCurrentThread() noexcept;
};

/*!
  Gives the calling thread \a priority relative to \a base. Returns false
  when the system refuses it: on Linux an unprivileged thread may lower its
  priority but not raise it again.
*/
bool applyThreadPriority(ThreadPriority priority, BaseScheduling base) noexcept;

} // namespace QtOffload::detail
