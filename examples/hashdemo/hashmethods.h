// SPDX-License-Identifier: MIT
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QFutureWatcher>
#include <QtCore/QObject>
#include <QtCore/QString>

/*!
  One way to hash a file: start() begins, progress() reports bytes done
  (always in the GUI thread), finished() gives the SHA-256. Four
  implementations, from the naive to QtOffload's, so the demo can compare
  what each does to the event loop.
*/
class HashMethod : public QObject
{
    Q_OBJECT

public:
    using QObject::QObject;
    virtual QString name() const = 0;
    virtual void start(const QString &path) = 0;

Q_SIGNALS:
    void progress(qint64 bytesDone);
    void finished(const QByteArray &sha256);
    void failed(const QString &message);
};

//! Reads and hashes in a QtOffload generator; chunkReady brings progress to the GUI.
HashMethod *makeGeneratorMethod(QObject *parent);
//! Reads and hashes on the GUI thread, letting events through every few MiB, as a naive app would.
HashMethod *makeGuiThreadMethod(QObject *parent);
//! QtConcurrent::run with QPromise::addResult for progress, watched by a QFutureWatcher.
HashMethod *makeConcurrentMethod(QObject *parent);

/*!
  QtOffload::threaded() with a JobControl: the job reports its progress and
  has a pause check point, and watcher() shows both, as any QFuture's. The
  progress is in blocks of hashBlockBytes; progress() is not emitted.
*/
class ThreadedMethod final : public HashMethod
{
    Q_OBJECT

public:
    explicit ThreadedMethod(QObject *parent);
    ~ThreadedMethod() override;
    QString name() const override { return QStringLiteral("QtOffload threaded + JobControl"); }
    void start(const QString &path) override;

    /*!
      Watches the running job's future: progressRangeChanged() and
      progressValueChanged(), suspending(), suspended() and resumed(); its
      suspend(), resume() and setSuspended() pause and resume the job.
    */
    QFutureWatcher<QByteArray> *watcher() { return &m_watcher; }

private:
    QFutureWatcher<QByteArray> m_watcher;
};

//! The size of one read.
constexpr qint64 hashBlockBytes = 1024 * 1024;
