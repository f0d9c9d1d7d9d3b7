// SPDX-License-Identifier: MIT
#include "autoquit.h"

#include <QtOffload/chunklistmodel.h>
#include <QtOffload/generator.h>

#include <QtCore/QCoreApplication>
#include <QtGui/QImage>
#include <QtQuick/QQuickWindow>

#include <cstdio>

AutoQuit::AutoQuit(QQuickWindow *window, QtOffload::ChunkListModel *model, int rows, const QString &screenshot,
                   QObject *parent)
    : QObject(parent)
    , m_window(window)
    , m_model(model)
    , m_rows(rows)
    , m_screenshot(screenshot)
{
    connect(model, &QtOffload::ChunkListModel::countChanged, this, &AutoQuit::countChanged);
    connect(model, &QtOffload::ChunkListModel::generatorChanged, this, &AutoQuit::watchGenerator);
    watchGenerator();
    countChanged(model->count());
}

void AutoQuit::watchGenerator()
{
    disconnect(m_finishedConnection);
    m_generator = m_model->generator();
    if (!m_generator)
        return;
    m_finishedConnection = connect(m_generator, &QtOffload::QtGenerator::finished, this, &AutoQuit::arm);
    if (m_generator->isDone())
        arm();
}

void AutoQuit::countChanged(int count)
{
    if (count >= m_rows)
        arm();
}

void AutoQuit::arm()
{
    if (m_armed)
        return;
    m_armed = true;
    // frameSwapped may come from the render thread: the connection queues it to us.
    connect(m_window, &QQuickWindow::frameSwapped, this, &AutoQuit::finish, Qt::SingleShotConnection);
    m_window->update(); // a frame even when nothing else changes any more
}

void AutoQuit::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    bool ok = true;
    if (!m_screenshot.isEmpty()) {
        const QImage image = m_window->grabWindow();
        if (image.isNull() || !image.save(m_screenshot)) {
            std::fprintf(stderr, "quickstream: error: cannot save the screenshot to %s\n", qPrintable(m_screenshot));
            ok = false;
        } else {
            std::printf("quickstream: saved %dx%d screenshot to %s\n", image.width(), image.height(),
                        qPrintable(m_screenshot));
        }
    }
    const int rows = m_model->count();
    std::printf("quickstream: %d rows\n", rows);
    if (m_generator && m_generator->isDone())
        std::printf("quickstream: stream ended: %s\n",
                    QMetaEnum::fromType<QtOffload::QtGenerator::EndReason>().valueToKey(int(m_generator->endReason())));
    std::fflush(stdout);
    if (rows == 0) {
        std::fprintf(stderr, "quickstream: error: no chunk reached the list\n");
        ok = false;
    }
    QCoreApplication::exit(ok ? 0 : 1);
}
