// SPDX-License-Identifier: MIT
#include "deferredwakeups_p.h"

#include <algorithm>
#include <utility>

namespace QtOffload::detail {

thread_local std::vector<DeferredWakeUps::Holder> *DeferredWakeUps::t_holders = nullptr;

DeferredWakeUps::DeferredWakeUps()
    : m_current(&t_holders)
    , m_outermost(*m_current == nullptr)
{
    if (m_outermost)
        *m_current = &m_holders;
}

DeferredWakeUps::~DeferredWakeUps()
{
    flush();
    if (m_outermost)
        *m_current = nullptr;
}

void DeferredWakeUps::flush()
{
    if (!m_outermost || m_holders.empty())
        return;
    *m_current = nullptr; // releasing posts now
    for (const Holder &holder : std::exchange(m_holders, {}))
        holder.release(holder.holder.get(), &m_holders);
    *m_current = &m_holders;
}

const void *DeferredWakeUps::currentBatch() noexcept { return t_holders; }

void DeferredWakeUps::holdUntilReleased(std::shared_ptr<void> holder, void (*release)(void *, const void *))
{
    const bool known = std::ranges::any_of(*t_holders, [&](const Holder &h) { return h.holder == holder; });
    if (!known)
        t_holders->push_back({ std::move(holder), release });
}

} // namespace QtOffload::detail
