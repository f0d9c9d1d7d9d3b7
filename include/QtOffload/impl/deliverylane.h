// SPDX-License-Identifier: MIT
#pragma once

// Implementation detail of QtOffload: do not include directly.

#include <QtOffload/deliverylane.h>

#include <memory>

class QThread;

namespace QtOffload::detail {

class DeliveryLane;

/*!
  What a delivery lane hands out: a generator's chunks, one future's result.
  A client lives in its lane's thread and is destroyed there; destroying it
  takes it off the lane, even in the middle of its own delivery.
*/
class QTOFFLOAD_EXPORT LaneClient
{
public:
    LaneClient(const LaneClient &) = delete;
    LaneClient &operator=(const LaneClient &) = delete;

    /*!
      Asks for a deliverOne() in a coming turn of the lane. Thread: any, as
      long as the client lives (a client scheduled twice runs once).
    */
    void scheduleDelivery();

protected:
    /*!
      From deliverOne(): run again in the lane's next turn, after the
      thread's timers and posted events, rather than in this one. For items
      that are coalesced to one per turn (progress).
    */
    void scheduleNextTurn();
    //! Which turn of the lane is running (nested turns count). Thread: the lane's, from deliverOne().
    quint64 currentTurn() const;

    //! Joins the lane of \a thread (created on first use).
    explicit LaneClient(QThread *thread);
    ~LaneClient();

    /*!
      Called in a lane turn, on the lane's thread: hands out one item. Returns
      true when another one is ready at once (the lane comes back for it, in
      this turn if the budget allows, after the other clients' items). It may
      destroy the client.
    */
    virtual bool deliverOne() = 0;

private:
    friend class DeliveryLane;
    const std::shared_ptr<DeliveryLane> m_lane;
    bool m_scheduled = false; // guarded by the lane's mutex
};

} // namespace QtOffload::detail
