// SPDX-License-Identifier: MIT
#include <QtOffload/errors.h>

#include "errors_p.h"
#include "tsan_p.h"

#include <QtCore/QException>

#include <cstdlib>
#include <memory>
#include <typeinfo>
#if defined(__GLIBCXX__)
#include <cxxabi.h>
#endif

namespace QtOffload {

Error::~Error() = default;
CancelledError::~CancelledError() = default;
TimeoutError::~TimeoutError() = default;
ShutdownError::~ShutdownError() = default;
LookupError::~LookupError() = default;

#if defined(QTOFFLOAD_TSAN)
extern "C" void AnnotateBenignRaceSized(const char *file, int line, const volatile void *address, size_t size,
                                        const char *description);
extern "C" size_t malloc_usable_size(void *pointer);
#endif

void detail::announceHandOver(const std::exception_ptr &error) noexcept
{
#if defined(QTOFFLOAD_TSAN)
    // libstdc++ keeps the thrown object right after a 128-byte header in one
    // malloc block; the worker's writes to it happen-before the reader's
    // rethrow through Qt's mutex, which TSan cannot see.
    constexpr size_t headerSize = 128;
    if (!error)
        return;
    char *object = *reinterpret_cast<char *const *>(&error);
    const size_t block = malloc_usable_size(object - headerSize);
    if (block > headerSize)
        AnnotateBenignRaceSized(__FILE__, __LINE__, object, block - headerSize,
                                "exception handed over through QFuture");
#else
    Q_UNUSED(error);
#endif
}

std::string detail::typeName(const std::type_info &type)
{
#if defined(__GLIBCXX__)
    int status = 0;
    const std::unique_ptr<char, void (*)(void *)> name(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status),
                                                       std::free);
    if (status == 0 && name)
        return name.get();
#endif
    return type.name();
}

std::string detail::describeException(const std::exception_ptr &error)
{
    if (!error)
        return "no error";
    try {
        std::rethrow_exception(error);
    } catch (const std::exception &e) {
        return e.what();
    } catch (...) {
#if defined(__GLIBCXX__)
        // libstdc++ knows the type of the exception being handled.
        if (const std::type_info *type = abi::__cxa_current_exception_type())
            return "an exception of type " + typeName(*type) + " (not derived from std::exception)";
#endif
        return "an exception not derived from std::exception (catch it by its own type)";
    }
}

} // namespace QtOffload
