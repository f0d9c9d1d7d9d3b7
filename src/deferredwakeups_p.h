// SPDX-License-Identifier: MIT
#pragma once

#include <memory>
#include <vector>

namespace QtOffload::detail {

/*!
  While one lives, the wake-ups this thread would post (a delivery lane's)
  are held and released only when it ends (or at flush()): for a thread that
  holds a lock the woken thread will want at once, as a future's own mutex
  while Qt sends its callouts. A woken thread that found the lock still held
  would sleep again until this one ran once more. Nested ones leave it to
  the outermost.

  It knows nothing of what it holds: a holder asks for currentBatch(),
  keeps what it held under that key, and registers with holdUntilReleased()
  to be handed the key back.
*/
class DeferredWakeUps
{
public:
    DeferredWakeUps();
    ~DeferredWakeUps();
    DeferredWakeUps(const DeferredWakeUps &) = delete;
    DeferredWakeUps &operator=(const DeferredWakeUps &) = delete;

    //! Releases what was held so far; later wake-ups are held again.
    void flush();

    //! The key of this thread's open batch, or null when none is open: then nothing is held.
    static const void *currentBatch() noexcept;
    /*!
      Calls \a release(\a holder, batch) when the open batch ends, once per
      holder however often it asks; \a holder is kept alive until then. Only
      while currentBatch() is set.
    */
    static void holdUntilReleased(std::shared_ptr<void> holder, void (*release)(void *holder, const void *batch));

private:
    struct Holder
    {
        std::shared_ptr<void> holder;
        void (*release)(void *, const void *);
    };
    std::vector<Holder> m_holders;
    // This thread's t_holders, looked up once: in a shared library each
    // look-up of a thread_local is a call, and finishFuture() opens one of
    // these for every job.
    std::vector<Holder> **const m_current;
    bool m_outermost;
    // The holders waiting for this thread's open batch; its address is the batch's key.
    static thread_local std::vector<Holder> *t_holders;
};

} // namespace QtOffload::detail
