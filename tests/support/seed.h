// SPDX-License-Identifier: MIT
#pragma once

#include <QtCore/QtGlobal>

/*!
  The seed of a randomised scenario: QTOFFLOAD_STRESS_SEED when it is set to
  a number, a fresh random one otherwise. Logged either way, so a failing run
  can be replayed.
*/
quint64 stressSeed();
