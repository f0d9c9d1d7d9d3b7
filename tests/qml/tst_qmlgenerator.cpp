// SPDX-License-Identifier: MIT
// Runs tst_*.qml with a "generators" factory that makes QtGenerators in C++.
#include <QtOffload/generator.h>
#include <QtOffload/qmlregistration.h>

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
        return adopt(QtOffload::threadedIterable([](QtOffload::Sink<QString> &out, QString all) {
            for (const QString &word : all.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
                if (!out.yield(word))
                    return;
            }
        }, 2)(text));
    }

    //! Yields 0, 1, ... forever, until closed.
    Q_INVOKABLE QtOffload::QtGenerator *counter()
    {
        return adopt(QtOffload::threadedIterable([](QtOffload::Sink<int> &out) {
            for (int i = 0; out.yield(i); ++i) {
            }
        }, 2)());
    }

    //! Yields one chunk, then throws.
    Q_INVOKABLE QtOffload::QtGenerator *failing()
    {
        return adopt(QtOffload::threadedIterable([](QtOffload::Sink<int> &out) {
            out.yield(1);
            throw std::runtime_error("the producer failed");
        }, 2)());
    }

private:
    template<typename T>
    QtOffload::QtGenerator *adopt(std::unique_ptr<T> generator)
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
    void applicationAvailable() { QtOffload::registerQmlTypes(); }
    void qmlEngineAvailable(QQmlEngine *engine)
    {
        engine->rootContext()->setContextProperty(QStringLiteral("generators"), new GeneratorFactory(engine));
    }
};

QUICK_TEST_MAIN_WITH_SETUP(qmlgenerator, Setup)
#include "tst_qmlgenerator.moc"
