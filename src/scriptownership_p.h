// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/qtoffloadglobal.h>

QT_FORWARD_DECLARE_CLASS(QObject)

namespace QtOffload::detail {

/*!
  Takes \a object over from a QML engine's garbage collector, if a QML
  engine owns it (a parentless QObject that a Q_INVOKABLE returned): true
  when the caller owns it now. The Core-only library cannot ask QtQml, so
  the QML module installs the answer when it is loaded; without it nothing
  is script-owned.
*/
using ClaimFromScriptEngine = bool (*)(QObject *object);
QTOFFLOAD_EXPORT void setScriptOwnershipClaim(ClaimFromScriptEngine claim) noexcept;
bool claimFromScriptEngine(QObject *object);

} // namespace QtOffload::detail
