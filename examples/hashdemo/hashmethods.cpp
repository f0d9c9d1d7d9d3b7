// SPDX-License-Identifier: MIT
#include "hashmethods.h"

#include <QtOffload/QtOffload>

#include <QtConcurrent/QtConcurrent>
#include <QtCore/QCoreApplication>
#include <QtCore/QCryptographicHash>
#include <QtCore/QFile>
#include <QtCore/QFutureWatcher>
#include <QtCore/QPromise>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace {

//! What the workers report: bytes hashed so far, and the digest at the end.
struct HashProgress
{
    qint64 bytesDone = 0;
    QByteArray sha256; // set on the last report only
};

//! Reads and hashes one block per step(); the methods differ only in the thread that calls it.
class FileHasher
{
public:
    explicit FileHasher(const QString &path)
        : m_file(path)
    {
        if (!m_file.open(QIODevice::ReadOnly))
            throw std::runtime_error("cannot open " + path.toStdString() + ": " + m_file.errorString().toStdString());
    }
    bool atEnd() const { return m_file.atEnd(); }
    //! How many step() calls the file takes.
    int blockCount() const { return int((m_file.size() + hashBlockBytes - 1) / hashBlockBytes); }
    //! Hashes the next block; the digest comes with the last one.
    HashProgress step()
    {
        const QByteArray block = m_file.read(hashBlockBytes);
        m_hash.addData(block);
        m_done += block.size();
        return { m_done, atEnd() ? m_hash.result() : QByteArray() };
    }

private:
    QFile m_file;
    QCryptographicHash m_hash { QCryptographicHash::Sha256 };
    qint64 m_done = 0;
};

QString messageOf(const std::exception_ptr &error)
{
    try {
        if (error)
            std::rethrow_exception(error);
    } catch (const std::exception &e) {
        return QString::fromUtf8(e.what());
    } catch (...) {
    }
    return QStringLiteral("unknown error");
}

class GeneratorMethod final : public HashMethod
{
public:
    using HashMethod::HashMethod;
    QString name() const override { return QStringLiteral("QtOffload generator"); }

    void start(const QString &path) override
    {
        m_error.clear();
        m_digest.clear();
        // The producer reads and hashes; only progress crosses threads. A
        // small buffer: the producer never runs far ahead of the screen.
        m_generator = QtOffload::threadedIterable(
            [](QtOffload::Sink<HashProgress> &out, QString file) {
                FileHasher hasher(file);
                while (!hasher.atEnd()) {
                    if (!out.yield(hasher.step()))
                        return;
                }
            },
            4)(path);
        m_generator->onChunk(this, [this](const HashProgress &step) {
            Q_EMIT progress(step.bytesDone);
            if (!step.sha256.isEmpty())
                m_digest = step.sha256;
        });
        // A producer that throws gets errorOccurred() and then finished(): keep
        // the message so the window hears of the run's end exactly once.
        connect(m_generator.get(), &QtOffload::QtGenerator::errorOccurred, this,
                [this](const QString &message) { m_error = message; });
        connect(m_generator.get(), &QtOffload::QtGenerator::finished, this, [this] {
            if (m_error.isEmpty())
                Q_EMIT finished(m_digest);
            else
                Q_EMIT failed(m_error);
        });
    }

private:
    std::unique_ptr<QtOffload::TypedGenerator<HashProgress>> m_generator; // destroying it closes it: the producer stops
    QByteArray m_digest;
    QString m_error;
};

class GuiThreadMethod final : public HashMethod
{
public:
    using HashMethod::HashMethod;
    QString name() const override { return QStringLiteral("GUI thread"); }

    void start(const QString &path) override
    {
        // Deferred so the caller's code runs first, as with the other methods.
        QMetaObject::invokeMethod(
            this,
            [this, path] {
                try {
                    FileHasher hasher(path);
                    HashProgress step;
                    while (!hasher.atEnd()) {
                        step = hasher.step();
                        if (step.bytesDone % (32 * hashBlockBytes) == 0) { // the usual "keep the UI alive" hack
                            Q_EMIT progress(step.bytesDone);
                            QCoreApplication::processEvents();
                        }
                    }
                    Q_EMIT progress(step.bytesDone);
                    Q_EMIT finished(step.sha256);
                } catch (const std::exception &e) {
                    Q_EMIT failed(QString::fromUtf8(e.what()));
                }
            },
            Qt::QueuedConnection);
    }
};

class ConcurrentMethod final : public HashMethod
{
public:
    explicit ConcurrentMethod(QObject *parent)
        : HashMethod(parent)
    {
        connect(&m_watcher, &QFutureWatcher<HashProgress>::resultsReadyAt, this, [this](int begin, int end) {
            for (int i = begin; i < end; ++i) {
                const HashProgress step = m_watcher.resultAt(i);
                Q_EMIT progress(step.bytesDone);
                if (!step.sha256.isEmpty())
                    m_digest = step.sha256;
            }
        });
        connect(&m_watcher, &QFutureWatcher<HashProgress>::finished, this, [this] {
            try {
                m_watcher.waitForFinished(); // rethrows the worker's exception
                Q_EMIT finished(m_digest);
            } catch (const QUnhandledException &e) {
                // QtConcurrent wraps what is not a QException; say what it was.
                Q_EMIT failed(messageOf(e.exception()));
            } catch (const std::exception &e) {
                Q_EMIT failed(QString::fromUtf8(e.what()));
            }
        });
    }
    ~ConcurrentMethod() override
    {
        // QtConcurrent knows nothing of this object: stop the job and wait, or it
        // would go on reading a file the window no longer cares about.
        m_watcher.disconnect(this);
        m_watcher.cancel();
        try {
            m_watcher.waitForFinished();
        } catch (...) {
            // a failed run was already reported, or nobody is left to tell
        }
    }
    QString name() const override { return QStringLiteral("QtConcurrent + QPromise"); }

    void start(const QString &path) override
    {
        m_digest.clear();
        m_watcher.setFuture(QtConcurrent::run(
            [](QPromise<HashProgress> &promise, QString file) {
                FileHasher hasher(file);
                while (!hasher.atEnd() && !promise.isCanceled())
                    promise.addResult(hasher.step());
            },
            path));
    }

private:
    QFutureWatcher<HashProgress> m_watcher;
    QByteArray m_digest;
};

} // namespace

ThreadedMethod::ThreadedMethod(QObject *parent)
    : HashMethod(parent)
{
    connect(&m_watcher, &QFutureWatcher<QByteArray>::finished, this, [this] {
        if (m_watcher.isCanceled()) {
            Q_EMIT failed(QStringLiteral("cancelled"));
            return;
        }
        try {
            Q_EMIT finished(m_watcher.result()); // rethrows the job's exception, as its own type
        } catch (const std::exception &e) {
            Q_EMIT failed(QString::fromUtf8(e.what()));
        }
    });
}

ThreadedMethod::~ThreadedMethod()
{
    // The job holds nothing of this object: a stop request is enough, no wait.
    // It also ends a pause: suspendIfRequested() returns on a cancel.
    m_watcher.disconnect(this);
    m_watcher.cancel();
}

void ThreadedMethod::start(const QString &path)
{
    // Only the progress and the digest cross threads; the job reports its
    // progress as the future's, and waits at its check point while the
    // future is suspended.
    const auto hashFile = QtOffload::threaded([](QtOffload::JobControl &control, QString file) {
        FileHasher hasher(file);
        const int blocks = std::max(1, hasher.blockCount());
        control.setProgressRange(0, blocks);
        QByteArray digest;
        for (int done = 0; !hasher.atEnd();) {
            control.suspendIfRequested(); // Pause holds the job here, between two blocks
            if (control.isStopRequested())
                return QByteArray(); // cancelled: nobody reads the result
            digest = hasher.step().sha256;
            control.setProgressValue(++done); // cheap: only the latest value goes to the GUI
        }
        control.setProgressValue(blocks);
        return digest;
    });
    m_watcher.setFuture(hashFile(path));
}

HashMethod *makeGeneratorMethod(QObject *parent) { return new GeneratorMethod(parent); }

HashMethod *makeGuiThreadMethod(QObject *parent) { return new GuiThreadMethod(parent); }

HashMethod *makeConcurrentMethod(QObject *parent) { return new ConcurrentMethod(parent); }
