// SPDX-License-Identifier: MIT
// What a C++ block of the README may take for granted: Qt's, QCoro's and
// QtOffload's headers. install_and_consume.cmake puts each block after it.
#pragma once

#include <QtOffload/QtOffload>

#include <QCoro/QCoroFuture>
#include <QCoro/QCoroTask>

#include <QtCore>
#include <QtWidgets>

#include <stdexcept>
