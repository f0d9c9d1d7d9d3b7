// SPDX-License-Identifier: MIT
#pragma once

// Spin, then sleep: the one way QtOffload waits for another thread. A wait
// that is over within microseconds (a pool worker between the jobs of a
// burst, a producer waiting for room, a caller waiting for a call into a
// live event loop) would pay a sleep and a wake-up, tens of microseconds on
// a VM; so the waiter first polls for a moment with spinFor(), and sleeps
// on its own condition (a condition variable) only if that did not end it.

#include <QtCore/QThread>

#include <chrono>

namespace QtOffload::detail {

//! One step of a busy-wait: tells the core (and a hyperthread sibling) that we only spin.
inline void cpuRelax() noexcept
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

/*!
  Polls \a done for up to \a limit and returns whether it became true,
  yielding every 32 polls: on a machine whose cores are all busy, the thread
  it waits for may need this very core. Every spinner yields, the GUI
  thread's wait for the next push too: without the yield, one CPU-bound
  process beside bench_offload made the 1024-chunk stream 5x slower
  (--measure stream-1024: 750-790 against 110-120 ns a chunk), for a stall while
  streaming that the yield lengthens on a quiet machine only.

  With the yield, spinning pays on a busy machine too, so it has no other
  condition. bench_offload --load-table 5 on 2 cores, QtOffload's time over
  Qt's at 0 / 1 / 2 busy processes: .then(context) 0.41x / 0.67x / 0.66x,
  whenFinished 0.25x / 0.48x / 0.48x. Giving the spin up when a yield showed
  that another thread had the core (over 10 us in the yield) changed none of
  the figures beyond their noise (--measure burst-threaded, stream-2,
  then-threaded and whenfinished-threaded, 3 runs each at 0 and 1 busy
  processes), so it was left out.
*/
template<typename Done> bool spinFor(std::chrono::microseconds limit, Done done)
{
    const auto until = std::chrono::steady_clock::now() + limit;
    for (;;) {
        for (int i = 0; i < 32; ++i) {
            if (done())
                return true;
            cpuRelax();
        }
        if (std::chrono::steady_clock::now() >= until)
            return done();
        QThread::yieldCurrentThread();
    }
}

} // namespace QtOffload::detail
