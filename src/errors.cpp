// SPDX-License-Identifier: MIT
#include <QtOffload/errors.h>

#include <QtCore/QException>

namespace QtOffload {

Error::~Error() = default;
CancelledError::~CancelledError() = default;
TimeoutError::~TimeoutError() = default;
ShutdownError::~ShutdownError() = default;
LookupError::~LookupError() = default;

std::string detail::describeException(const std::exception_ptr &error)
{
    if (!error)
        return "no error";
    try {
        std::rethrow_exception(error);
    } catch (const std::exception &e) {
        return e.what();
    } catch (...) {
        return "an exception not derived from std::exception";
    }
}

} // namespace QtOffload
