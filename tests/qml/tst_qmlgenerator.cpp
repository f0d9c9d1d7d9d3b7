// SPDX-License-Identifier: MIT
// Runs tst_*.qml with a "generators" factory that makes QtGenerators in C++.
#include <QtOffload/QtOffload>

#include <QtQml/QQmlContext>
#include <QtQml/QQmlEngine>
#include <QtQuickTest/quicktest.h>

#include <stdexcept>

//! What a C++ backend hands to QML: generators it made, owned by itself.
class GeneratorFactory : public QObject
{
    Q_OBJECT

public:
    using QObject::QObject;

    //! Yields the words of \a text, one chunk each.
    Q_INVOKABLE QtOffload::QtGenerator *words(const QString &text)
    {
        return adopt(QtOffload::threadedIterable(
            [](QtOffload::Sink<QString> &out, QString all) {
                for (const QString &word : all.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
                    if (!out.yield(word))
                        return;
                }
            },
            2)(text));
    }

    //! Yields 0, 1, ... forever, until closed.
    Q_INVOKABLE QtOffload::QtGenerator *counter()
    {
        return adopt(QtOffload::threadedIterable(
            [](QtOffload::Sink<int> &out) {
                for (int i = 0; out.yield(i); ++i) { }
            },
            2)());
    }

    /*!
      Yields 0 .. count - 1, handed over the README's way: released with no
      parent, so the QML engine owns it until a ChunkListModel adopts it.
    */
    Q_INVOKABLE QtOffload::QtGenerator *unowned(int count)
    {
        return QtOffload::threadedIterable(
                   [](QtOffload::Sink<int> &out, int total) {
                       for (int i = 0; i < total && out.yield(i); ++i) { }
                   },
                   16)(count)
            .release();
    }

    //! Runs the garbage collector and the deletions it leaves for the event loop.
    Q_INVOKABLE void collectGarbage()
    {
        qmlEngine(this)->collectGarbage();
        QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    }

    //! Yields one chunk, then throws.
    Q_INVOKABLE QtOffload::QtGenerator *failing()
    {
        return adopt(QtOffload::threadedIterable(
            [](QtOffload::Sink<int> &out) {
                out.yield(1);
                throw std::runtime_error("the producer failed");
            },
            2)());
    }

    //! Yields \a count numbers and reports its progress over them.
    Q_INVOKABLE QtOffload::QtGenerator *progressing(int count)
    {
        return adopt(QtOffload::threadedIterable(
            [](QtOffload::Sink<int> &out, int total) {
                out.setProgressRange(0, total);
                for (int i = 0; i < total; ++i) {
                    if (!out.yield(i))
                        return;
                    out.setProgressValue(i + 1);
                }
            },
            2)(count));
    }

    //! Sums 1..n in a job that reports its progress up to \a stopAt (<= n) and has a pause check point.
    Q_INVOKABLE QtOffload::QtJob *sum(int n, int stopAt)
    {
        return adoptJob(QtOffload::threaded([](QtOffload::JobControl &control, int last, int reportUpTo) {
            control.setProgressRange(0, last);
            qint64 total = 0;
            for (int i = 1; i <= last; ++i) {
                control.suspendIfRequested();
                total += i;
                if (i <= reportUpTo)
                    control.setProgressValueAndText(i, QStringLiteral("adding %1").arg(i));
            }
            return total;
        })(n, stopAt));
    }

    //! A job that waits until it is cancelled.
    Q_INVOKABLE QtOffload::QtJob *waitForCancel()
    {
        return adoptJob(QtOffload::threaded([](QtOffload::JobControl &control) {
            while (!control.isStopRequested())
                control.stopToken().waitFor(std::chrono::milliseconds(1000));
        })());
    }

    Q_INVOKABLE QtOffload::QtJob *failingJob()
    {
        return adoptJob(QtOffload::threaded([]() -> int { throw std::runtime_error("the job failed"); })());
    }

private:
    template<typename T> QtOffload::QtJob *adoptJob(const QFuture<T> &future)
    {
        QtOffload::QtJob *job = QtOffload::QtJob::watch(future, this);
        QQmlEngine::setObjectOwnership(job, QQmlEngine::CppOwnership);
        return job;
    }

    template<typename T> QtOffload::QtGenerator *adopt(std::unique_ptr<T> generator)
    {
        generator->setParent(this); // C++ ownership: QML must not collect it
        QQmlEngine::setObjectOwnership(generator.get(), QQmlEngine::CppOwnership);
        return generator.release();
    }
};

class Setup : public QObject
{
    Q_OBJECT

public Q_SLOTS:
    // No registration call: `import QtOffload` finds the module's plugin on the import path.
    void qmlEngineAvailable(QQmlEngine *engine)
    {
        auto *factory = new GeneratorFactory(engine);
        QQmlEngine::setContextForObject(factory, engine->rootContext()); // qmlEngine(factory) finds the engine
        engine->rootContext()->setContextProperty(QStringLiteral("generators"), factory);
    }
};

QUICK_TEST_MAIN_WITH_SETUP(qmlgenerator, Setup)
#include "tst_qmlgenerator.moc"
