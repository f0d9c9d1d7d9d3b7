// SPDX-License-Identifier: MIT
#pragma once

// The QML module "QtOffload" (`import QtOffload`): QtOffload's QObject types,
// which live in the Core-only library, registered as foreign types so that
// library needs no QtQml.

#include <QtOffload/chunklistmodel.h>
#include <QtOffload/generator.h>
#include <QtOffload/qtjob.h>

#include <QtQml/qqml.h>

struct QtOffloadQmlGenerator
{
    Q_GADGET
    QML_FOREIGN(QtOffload::QtGenerator)
    QML_NAMED_ELEMENT(QtGenerator)
    QML_UNCREATABLE("a QtGenerator is made in C++ (threadedIterable(), IteratorWrapper) and handed to QML")
};

struct QtOffloadQmlJob
{
    Q_GADGET
    QML_FOREIGN(QtOffload::QtJob)
    QML_NAMED_ELEMENT(QtJob)
    QML_UNCREATABLE("a QtJob is made in C++ with QtJob::watch(future, parent) and handed to QML")
};

struct QtOffloadQmlChunkListModel
{
    Q_GADGET
    QML_FOREIGN(QtOffload::ChunkListModel)
    QML_NAMED_ELEMENT(ChunkListModel)
};
