// SPDX-License-Identifier: MIT
#pragma once

// Implementation detail of QtOffload: do not include directly.

#include <QtOffload/deliverylane.h>

#include <chrono>
#include <functional>
#include <memory>

class QThread;

namespace QtOffload::detail {

class DeliveryLane;

/*!
  What a delivery lane hands out: a generator's chunks, one future's result.
  A client lives in its lane's thread and is destroyed there; destroying it
  takes it off the lane, even in the middle of its own delivery. A client
  that another thread is done with is handed to its lane with deleteOnLane().
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

    /*!
      Hands the client to its lane, which destroys it on the lane's thread:
      at the start of the lane's next turn, or as the lane retires (its
      thread finishes, the application is destroyed), whichever comes first;
      at once, on the calling thread, when the lane has already retired.
      Thread: any; the caller must not touch the client afterwards.

      Unlike QObject::deleteLater() from another thread, it cannot leak: Qt
      drops a posted deletion that the thread's event loop never reaches.
    */
    void deleteOnLane();

    /*!
      From now on the lane calls laneRetired() as it retires (its thread
      finishes, the application is destroyed), if the client is still alive
      then: for a client that must stop something when its thread goes, or
      whose own way to its end (an event, a turn) would never come.
      \a underLock runs while the lane holds the client: a client that hands
      itself to its thread there (posts its set-up) may destroy itself in
      that thread at once, so the caller must touch it only inside
      \a underLock. Returns false, doing nothing, when the lane has retired
      already. Thread: any.
    */
    bool watchLaneEnd(const std::function<void()> &underLock = {});

protected:
    /*!
      From deliverOne(): run again in the lane's next turn, after the
      thread's timers and posted events, rather than in this one. For items
      that are coalesced to one per turn (progress).
    */
    void scheduleNextTurn();
    /*!
      Run again in a turn no sooner than \a delay from now; a pending delay
      that ends sooner stays. Thread: the lane's (usually from deliverOne()). For items that must wait
      for a window to open (progress waits for Qt's throttle). The lane
      keeps the timer, so a client needs no QObject of its own for it.
    */
    void scheduleDeliveryIn(std::chrono::milliseconds delay);
    //! Which turn of the lane is running (nested turns count). Thread: the lane's, from deliverOne().
    quint64 currentTurn() const;
    /*!
      For a consumer's own call on the lane's thread (a next() that would
      wait): runs deliverOne() now, as a turn would, until it has nothing
      more. A turn's one check for a client destroyed by what it delivered
      covers these deliveries too. Returns false when the client was
      destroyed meanwhile.
    */
    bool deliverNow();

    /*!
      For a client whose object moves to another thread: takes it off its
      lane at once, even in the middle of its own delivery, as destruction
      does (and off watchLaneEnd()). Until joinLane(), nothing may schedule
      it. Thread: the lane's.
    */
    void leaveLane();
    //! After leaveLane(): the client belongs to \a thread's lane from now on. Thread: \a thread.
    void joinLane(QThread *thread);

    //! Joins the lane of \a thread (created on first use).
    explicit LaneClient(QThread *thread);
    virtual ~LaneClient();

    /*!
      Called in a lane turn, on the lane's thread: hands out one item. Returns
      true when another one is ready at once (the lane comes back for it, in
      this turn if the budget allows, after the other clients' items). It may
      destroy the client.
    */
    virtual bool deliverOne() = 0;
    /*!
      The lane retired, for a client that watchLaneEnd(): called on the
      retiring thread, with no turn running. It may destroy the client.
    */
    virtual void laneRetired() noexcept { }

private:
    friend class DeliveryLane;
    std::shared_ptr<DeliveryLane> m_lane; // replaced only by joinLane(), while nothing can schedule the client
    bool m_scheduled = false; // guarded by the lane's mutex
};

} // namespace QtOffload::detail
