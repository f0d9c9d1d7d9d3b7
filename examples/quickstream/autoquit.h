// SPDX-License-Identifier: MIT
#pragma once

#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QString>

class QQuickWindow;

namespace QtOffload {
class ChunkListModel;
class QtGenerator;
}

/*!
  What --quit does: once the model holds \a rows rows, or its generator has
  finished, waits for the window's next frame, saves the window as
  \a screenshot (if not empty), prints "quickstream: N rows" and exits the
  event loop with 0 if rows arrived (and the screenshot was saved), else 1.
  Driven by signals only: the model's countChanged, the generator's
  finished and the window's frameSwapped.
*/
class AutoQuit : public QObject
{
    Q_OBJECT

public:
    AutoQuit(QQuickWindow *window, QtOffload::ChunkListModel *model, int rows, const QString &screenshot,
             QObject *parent = nullptr);

private:
    //! Follows the generator the model is bound to now.
    void watchGenerator();
    void countChanged(int count);
    //! The condition is met: quit after the next frame.
    void arm();
    //! After that frame: screenshot, report, exit.
    void finish();

    QQuickWindow *m_window;
    QtOffload::ChunkListModel *m_model;
    int m_rows;
    QString m_screenshot;
    QPointer<QtOffload::QtGenerator> m_generator;
    QMetaObject::Connection m_finishedConnection;
    bool m_armed = false;
    bool m_finished = false;
};
