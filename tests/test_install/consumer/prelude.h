// SPDX-License-Identifier: MIT
// What a C++ block of the README may take for granted: Qt's own widget
// headers, as the README says, and nothing of QCoro or QtOffload (a block
// includes <QtOffload/QtOffload> itself). install_and_consume.cmake puts each
// block after it.
#pragma once

#include <QtCore>
#include <QtWidgets>
