// SPDX-License-Identifier: MIT
#include <QtOffload/qtoffloadglobal.h>

namespace QtOffload {

// The headers' version, compiled into the library: a program built against
// other headers than the library it loads can tell the two apart.
const char *version() noexcept { return QTOFFLOAD_VERSION_STR; }

} // namespace QtOffload
