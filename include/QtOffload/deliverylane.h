// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/qtoffloadglobal.h>

#include <chrono>

class QThread;

namespace QtOffload {

/*
  The delivery lane. Everything QtOffload hands to a thread goes through that
  thread's delivery lane: a generator's chunks, whenFinished() results. Work
  that becomes ready on other threads shares one wake-up of the receiving thread per batch, and
  the lane hands it out in turns: a turn checks its clock after every item and
  ends once it has used its budget. The next turn comes only after the
  thread's timers and the events posted meanwhile have had theirs, so a flood
  of results or a slow chunkReady() handler cannot freeze a GUI: its timers
  keep firing at least once per item plus one budget.
*/

//! The budget of one delivery turn on every thread, unless set per thread: 2 ms.
inline constexpr std::chrono::microseconds DefaultDeliveryBudget { 2000 };

/*!
  Sets how long one delivery turn on \a thread may hand out items before it
  lets the thread's timers and posted events run (at least one item is
  delivered per turn, whatever the budget). Thread: any. Throws
  std::invalid_argument for a null thread or a negative budget.
*/
QTOFFLOAD_EXPORT void setDeliveryBudget(QThread *thread, std::chrono::microseconds budget);

//! The budget of \a thread's delivery turns (DefaultDeliveryBudget unless set). Thread: any.
[[nodiscard]] QTOFFLOAD_EXPORT std::chrono::microseconds deliveryBudget(QThread *thread);

} // namespace QtOffload
