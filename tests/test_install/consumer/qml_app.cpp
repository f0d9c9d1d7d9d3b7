// SPDX-License-Identifier: MIT
// QML as a user writes it: `import QtOffload` from the installed module (found
// on QML_IMPORT_PATH, no registration call), a ChunkListModel fed by a
// generator made in C++.
#include <QtOffload/QtOffload>

#include <QtCore/QCoreApplication>
#include <QtQml/QQmlComponent>
#include <QtQml/QQmlEngine>

#include <cstdio>
#include <memory>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QQmlEngine engine;
    QQmlComponent component(&engine);
    component.setData("import QtQml\nimport QtOffload\nChunkListModel { maximumRows: 3 }\n", QUrl());
    std::unique_ptr<QObject> model(component.create());
    if (!model) {
        std::printf("qml consumer: %s\n", qPrintable(component.errorString()));
        return 1;
    }
    auto generator = QtOffload::threadedIterable([](QtOffload::Sink<int> &out) {
        for (int i = 1; i <= 10 && out.yield(i); ++i) { }
    })();
    model->setProperty("generator", QVariant::fromValue(static_cast<QtOffload::QtGenerator *>(generator.get())));
    QObject::connect(generator.get(), &QtOffload::QtGenerator::finished, &app, [&] {
        auto *rows = qobject_cast<QAbstractListModel *>(model.get());
        std::printf("qml consumer: rows=%d last=%d\n", rows->rowCount(), rows->index(2).data().toInt());
        app.quit();
    });
    return app.exec();
}
