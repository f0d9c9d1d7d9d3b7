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

//! Whether a spin gives its core away now and then.
enum class SpinYield {
    //! For a worker waiting for another thread (a submitter, a consumer): on a machine whose
    //! cores are all busy, the thread it waits for may need this very core.
    GiveCore,
    //! For a receiving thread inside its delivery turn (a GUI thread): giving the core away
    //! there can cost it a whole time slice, which its timers and input would feel.
    KeepCore,
};

/*!
  Polls \a done for up to \a limit and returns whether it became true; with
  SpinYield::GiveCore it yields every 32 polls.
*/
template<typename Done> bool spinFor(std::chrono::microseconds limit, SpinYield yield, Done done)
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
        if (yield == SpinYield::GiveCore)
            QThread::yieldCurrentThread();
    }
}

} // namespace QtOffload::detail
