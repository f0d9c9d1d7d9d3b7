// SPDX-License-Identifier: MIT
#include <QtOffload/contextvar.h>

#include <atomic>
#include <map>

namespace QtOffload {

namespace detail {
struct ContextMap
{
    std::map<quint64, ContextValue> values;
};
} // namespace detail

namespace {
// The calling thread's current snapshot. Snapshots are immutable, so a
// capture is a reference-count increment and set() copies the (small) map.
thread_local std::shared_ptr<const detail::ContextMap> t_current;
std::atomic<quint64> s_nextId { 1 };
} // namespace

quint64 detail::newContextVarId() noexcept { return s_nextId.fetch_add(1, std::memory_order_relaxed); }

detail::ContextValue detail::contextLookup(quint64 id) noexcept
{
    if (!t_current)
        return {};
    const auto it = t_current->values.find(id);
    return it == t_current->values.end() ? ContextValue() : it->second;
}

detail::ContextValue detail::contextAssign(quint64 id, ContextValue value)
{
    auto next = t_current ? std::make_shared<ContextMap>(*t_current) : std::make_shared<ContextMap>();
    ContextValue previous;
    if (const auto it = next->values.find(id); it != next->values.end())
        previous = it->second;
    if (value)
        next->values[id] = std::move(value);
    else
        next->values.erase(id);
    t_current = std::move(next);
    return previous;
}

Context::Context() noexcept = default;

Context Context::capture() noexcept
{
    Context context;
    context.d = t_current;
    return context;
}

ContextScope::ContextScope(const Context &context) noexcept
    : m_previous(std::exchange(t_current, context.d))
{
}

ContextScope::~ContextScope() { t_current = std::move(m_previous); }

} // namespace QtOffload
