// SPDX-License-Identifier: MIT
#pragma once

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

} // namespace QtOffload::detail
