// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/qtoffloadglobal.h>

namespace QtOffload {

/*!
  Registers QtGenerator as the uncreatable QML type "QtGenerator" in module
  \a uri (version 1.0), so QML can name it; generators are made in C++ and
  handed to QML (a context or required property). Defined in the
  QtOffload::Qml target; call before loading QML.
*/
void registerQmlTypes(const char *uri = "QtOffload");

} // namespace QtOffload
