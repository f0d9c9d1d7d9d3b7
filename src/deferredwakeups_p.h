// SPDX-License-Identifier: MIT
#pragma once

#include <memory>
#include <vector>

namespace QtOffload::detail {

class DeliveryLane;

/*!
  While one lives, the delivery lanes this thread schedules are woken only
  when it ends (or at flush()): for a thread that holds a lock the woken
  thread will want at once, as a future's own mutex while Qt sends its
  callouts. A woken thread that found the lock still held would sleep again
  until this one ran once more. Nested ones leave it to the outermost.
*/
class DeferredWakeUps
{
public:
    DeferredWakeUps();
    ~DeferredWakeUps();
    DeferredWakeUps(const DeferredWakeUps &) = delete;
    DeferredWakeUps &operator=(const DeferredWakeUps &) = delete;

    //! Posts the wake-ups held so far; later ones are held again.
    void flush();

private:
    std::vector<std::shared_ptr<DeliveryLane>> m_lanes;
    bool m_outermost;
};

} // namespace QtOffload::detail
