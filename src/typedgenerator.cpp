// SPDX-License-Identifier: MIT
#include <QtOffload/typedgenerator.h>

namespace QtOffload {

qsizetype defaultIterableMaxSize()
{
    bool ok = false;
    const int size = qEnvironmentVariableIntValue("QTOFFLOAD_ITERABLE_MAX_SIZE", &ok);
    return ok && size >= 0 ? size : 1024;
}

} // namespace QtOffload
