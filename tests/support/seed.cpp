// SPDX-License-Identifier: MIT
#include <support/seed.h>

#include <QtCore/QRandomGenerator>
#include <QtCore/QString>
#include <QtCore/QtGlobal>

quint64 stressSeed()
{
    bool ok = false;
    const quint64 fromEnvironment = qEnvironmentVariable("QTOFFLOAD_STRESS_SEED").toULongLong(&ok);
    const quint64 seed = ok ? fromEnvironment : QRandomGenerator::global()->generate64();
    qInfo("random seed %llu (QTOFFLOAD_STRESS_SEED=%llu replays it)", seed, seed);
    return seed;
}
