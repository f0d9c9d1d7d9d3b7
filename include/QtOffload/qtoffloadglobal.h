// SPDX-License-Identifier: MIT
#pragma once

#include <QtCore/qglobal.h>

#include <chrono>

#if defined(QTOFFLOAD_BUILDING_LIBRARY)
#define QTOFFLOAD_EXPORT Q_DECL_EXPORT
#else
#define QTOFFLOAD_EXPORT Q_DECL_IMPORT
#endif

namespace QtOffload {

//! A timeout that never expires, for the functions that take one.
inline constexpr std::chrono::milliseconds Forever = std::chrono::milliseconds::max();

} // namespace QtOffload
