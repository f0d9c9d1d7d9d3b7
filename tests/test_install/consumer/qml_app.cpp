// SPDX-License-Identifier: MIT
// QML as a user writes it, following the README: `import QtOffload` from the
// installed module (found on QML_IMPORT_PATH, no registration call), and a
// ChunkListModel bound to a generator that a Q_INVOKABLE hands over released,
// without a parent. The garbage collector runs all through the stream: the
// model must keep the generator.
#include <QtOffload/QtOffload>

#include <QtCore/QCoreApplication>
#include <QtCore/QTimer>
#include <QtQml/QQmlComponent>
#include <QtQml/QQmlContext>
#include <QtQml/QQmlEngine>

#include <cstdio>
#include <memory>

class Backend : public QObject
{
    Q_OBJECT

public:
    Q_INVOKABLE QtOffload::QtGenerator *numbers(int count)
    {
        return QtOffload::threadedIterable(
                   [](QtOffload::Sink<int> &out, int last) {
                       for (int i = 1; i <= last && out.yield(i); ++i) { }
                   },
                   4)(count)
            .release();
    }
};

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QQmlEngine engine;
    Backend backend;
    engine.rootContext()->setContextProperty(QStringLiteral("backend"), &backend);
    QQmlComponent component(&engine);
    component.setData("import QtQml\nimport QtOffload\n"
                      "ChunkListModel { maximumRows: 3; generator: backend.numbers(2000) }\n",
                      QUrl());
    std::unique_ptr<QObject> model(component.create());
    if (!model) {
        std::printf("qml consumer: %s\n", qPrintable(component.errorString()));
        return 1;
    }
    QTimer collector;
    QObject::connect(&collector, &QTimer::timeout, &engine, [&engine] { engine.collectGarbage(); });
    collector.start(1);
    auto *generator = model->property("generator").value<QtOffload::QtGenerator *>();
    if (!generator) {
        std::printf("qml consumer: no generator on the model\n");
        return 1;
    }
    const QMetaObject::Connection lost = QObject::connect(generator, &QObject::destroyed, &app, [&app] {
        std::printf("qml consumer: the generator was destroyed mid-stream\n");
        app.exit(1);
    });
    QObject::connect(generator, &QtOffload::QtGenerator::finished, &app, [&] {
        QObject::disconnect(lost);
        auto *rows = qobject_cast<QAbstractListModel *>(model.get());
        std::printf("qml consumer: rows=%d last=%d\n", rows->rowCount(), rows->index(2).data().toInt());
        app.quit();
    });
    return app.exec();
}

#include "qml_app.moc"
