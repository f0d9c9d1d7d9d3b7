// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/qtoffloadglobal.h>

#include <stdexcept>
#include <string>
#include <typeinfo>

namespace QtOffload {

/*!
  Base of every error QtOffload itself raises. Errors thrown by user code are
  never wrapped: they reach the reader of the result as their own type.
*/
class QTOFFLOAD_EXPORT Error : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
    ~Error() override;
};

//! The awaited future or task was cancelled (invokeBlocking, Entrypoint::run).
class QTOFFLOAD_EXPORT CancelledError : public Error
{
public:
    using Error::Error;
    ~CancelledError() override;
};

//! A wait with a timeout ran out.
class QTOFFLOAD_EXPORT TimeoutError : public Error
{
public:
    using Error::Error;
    ~TimeoutError() override;
};

/*!
  The executor, thread, event loop or object a call needs is gone or shutting
  down: submitting to a pool being destroyed, invokeBlocking into a finished
  thread, a generator whose executor dropped its producer.
*/
class QTOFFLOAD_EXPORT ShutdownError : public Error
{
public:
    using Error::Error;
    ~ShutdownError() override;
};

//! ContextVar::get() on a variable that has no value and no default.
class QTOFFLOAD_EXPORT LookupError : public Error
{
public:
    using Error::Error;
    ~LookupError() override;
};

namespace detail {
/*!
  Tells ThreadSanitizer that \a error's object is handed to another thread
  through Qt's (uninstrumented, so invisible) exception store. A no-op unless
  the library is built with TSan.
*/
QTOFFLOAD_EXPORT void announceHandOver(const std::exception_ptr &error) noexcept;
} // namespace detail

} // namespace QtOffload
