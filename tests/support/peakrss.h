// SPDX-License-Identifier: MIT
#pragma once

#include <QtCore/QtGlobal>

//! The process's peak resident set size (VmHWM) in KiB, or -1 where /proc/self/status does not tell it.
qint64 peakRssKiB();
