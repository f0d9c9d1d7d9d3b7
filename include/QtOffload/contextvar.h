// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/errors.h>

#include <QtCore/QString>

#include <memory>
#include <type_traits>
#include <utility>

namespace QtOffload {

namespace detail {
struct ContextMap;
using ContextValue = std::shared_ptr<const void>;

QTOFFLOAD_EXPORT quint64 newContextVarId() noexcept;
//! The value the calling thread sees for variable \a id (null when unset).
QTOFFLOAD_EXPORT ContextValue contextLookup(quint64 id) noexcept;
//! Sets \a id in the calling thread's current context; returns the previous value.
QTOFFLOAD_EXPORT ContextValue contextAssign(quint64 id, ContextValue value);
} // namespace detail

/*!
  An immutable snapshot of every ContextVar as the capturing thread saw it.
  Every QtOffload wrapper captures one in the calling thread when it is
  called, and installs it around the job in the worker; the job's own set()
  calls change only the job's copy ("light copies", as the seed says).
  Capturing is one reference-count increment.
*/
class QTOFFLOAD_EXPORT Context
{
public:
    Context() noexcept;
    //! The calling thread's current snapshot.
    static Context capture() noexcept;

    //! Runs \a f in the calling thread with this snapshot installed; restores the previous one after.
    template<typename F> decltype(auto) run(F &&f) const;

private:
    friend class ContextScope;
    std::shared_ptr<const detail::ContextMap> d;
};

/*!
  Installs a Context for the lifetime of the scope in the current thread and
  restores the previous one on exit, so nothing leaks into the next job a
  pool thread runs.
*/
class QTOFFLOAD_EXPORT ContextScope
{
public:
    //! Installs \a context on this thread until the scope ends.
    explicit ContextScope(const Context &context) noexcept;
    ~ContextScope();
    ContextScope(const ContextScope &) = delete;
    ContextScope &operator=(const ContextScope &) = delete;

private:
    std::shared_ptr<const detail::ContextMap> m_previous;
};

template<typename F> decltype(auto) Context::run(F &&f) const
{
    ContextScope scope(*this);
    return std::forward<F>(f)();
}

/*!
  A context variable, the twin of Python's contextvars.ContextVar. Declare
  it once (usually as a global or static) and set/get it from any thread;
  every thread and every job sees its own value. Values are immutable once
  set: set() stores a copy.
*/
template<typename T> class ContextVar
{
    static_assert(std::is_copy_constructible_v<T>, "ContextVar<T> needs a copyable T");

public:
    //! Returned by set(); reset() restores the value the variable had before.
    class Token
    {
    public:
        Token() = default;

    private:
        friend class ContextVar;
        Token(quint64 id, detail::ContextValue previous)
            : m_id(id)
            , m_previous(std::move(previous))
            , m_valid(true)
        {
        }
        quint64 m_id = 0;
        detail::ContextValue m_previous;
        bool m_valid = false;
    };

    //! A variable with no value yet; \a name is for messages (LookupError).
    explicit ContextVar(QString name = {})
        : m_name(std::move(name))
        , m_id(detail::newContextVarId())
    {
    }
    ContextVar(const ContextVar &) = delete;
    ContextVar &operator=(const ContextVar &) = delete;

    //! The name given at construction.
    QString name() const { return m_name; }

    //! True when the calling thread's context holds a value for this variable.
    bool hasValue() const noexcept { return detail::contextLookup(m_id) != nullptr; }

    //! The current value. Throws LookupError when none was set in this context.
    T get() const
    {
        const auto value = detail::contextLookup(m_id);
        if (!value)
            throw LookupError("QtOffload::ContextVar '" + m_name.toStdString() + "' has no value in this context");
        return *static_cast<const T *>(value.get());
    }

    //! The current value, or \a defaultValue when none was set.
    T get(const T &defaultValue) const
    {
        const auto value = detail::contextLookup(m_id);
        return value ? *static_cast<const T *>(value.get()) : defaultValue;
    }

    //! Sets the value for the calling thread's context (and what jobs submitted from here later see).
    Token set(T value)
    {
        auto stored = std::make_shared<const T>(std::move(value));
        return Token(m_id, detail::contextAssign(m_id, std::move(stored)));
    }

    //! Restores the value from before the set() that returned \a token. Throws std::invalid_argument for a foreign or
    //! empty token.
    void reset(const Token &token)
    {
        if (!token.m_valid || token.m_id != m_id)
            throw std::invalid_argument("QtOffload::ContextVar::reset: the token was not made by this variable");
        detail::contextAssign(m_id, token.m_previous);
    }

private:
    QString m_name;
    quint64 m_id;
};

} // namespace QtOffload
