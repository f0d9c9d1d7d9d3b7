// SPDX-License-Identifier: MIT
#pragma once

#include <QtCore/qglobal.h>
#include <QtOffload/qtoffloadversion.h>

#include <chrono>

#if defined(QTOFFLOAD_BUILDING_LIBRARY)
#define QTOFFLOAD_EXPORT Q_DECL_EXPORT
#else
#define QTOFFLOAD_EXPORT Q_DECL_IMPORT
#endif

namespace QtOffload {

//! A timeout that never expires, for the functions that take one.
inline constexpr std::chrono::milliseconds Forever = std::chrono::milliseconds::max();

/*!
  The version of the QtOffload library the program runs with, as
  "major.minor.patch", like qVersion(). QTOFFLOAD_VERSION_STR and
  QTOFFLOAD_VERSION (for `#if QTOFFLOAD_VERSION >= QT_VERSION_CHECK(...)`)
  are the version of the headers it was compiled against.
*/
[[nodiscard]] QTOFFLOAD_EXPORT const char *version() noexcept;

} // namespace QtOffload
