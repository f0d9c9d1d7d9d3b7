// SPDX-License-Identifier: MIT
// Seed 2.14.4, "my first blockchain": a threaded generator reads this very
// file and yields each line with the running MD5 of all lines so far; the
// event thread sends "digest\tline" to a TCP peer (nc -l 127.0.0.1 2233).
#include <QtOffload/QtOffload>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCryptographicHash>
#include <QtCore/QFile>
#include <QtNetwork/QTcpSocket>

#include <QCoro/QCoroIODevice>
#include <QCoro/QCoroSignal>
#include <QCoro/QCoroTask>

#include <chrono>
#include <cstdio>

using namespace QtOffload;

namespace {

struct ChainLink
{
    QByteArray line;
    QByteArray digest;
};

const auto blockingReader = threadedIterable([](Sink<ChainLink> &out, QString path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw std::runtime_error("cannot open " + path.toStdString());
    QCryptographicHash md5(QCryptographicHash::Md5);
    while (!file.atEnd()) {
        QByteArray line = file.readLine();
        md5.addData(line);
        if (!out.yield({ line, md5.result().toHex() }))
            return;
    }
});

QCoro::Task<int> mainTask(QString host, quint16 port, QString path)
{
    QTcpSocket socket;
    socket.connectToHost(host, port);
    // Follow the state rather than QCoro's connectToHost(): a refused
    // connection ends the wait at once instead of after its timeout.
    while (socket.state() != QAbstractSocket::ConnectedState && socket.state() != QAbstractSocket::UnconnectedState) {
        const auto changed = co_await qCoro(&socket, &QAbstractSocket::stateChanged, std::chrono::seconds(30));
        if (!changed)
            break;
    }
    if (socket.state() != QAbstractSocket::ConnectedState) {
        std::fprintf(stderr, "cannot connect to %s:%u: %s\n", qPrintable(host), port, qPrintable(socket.errorString()));
        co_return 1;
    }
    int lines = 0;
    auto chain = blockingReader(path);
    while (auto link = co_await chain->next()) {
        co_await qCoro(socket).write(link->digest + '\t' + link->line); // the seed's write + drain
        ++lines;
    }
    // disconnectFromHost() first sends what is still buffered.
    socket.disconnectFromHost();
    if (socket.state() != QAbstractSocket::UnconnectedState)
        co_await qCoro(&socket, &QAbstractSocket::disconnected, std::chrono::seconds(30));
    std::printf("sent %d lines\n", lines);
    co_return 0;
}

} // namespace

int main(int argc, char **argv)
{
    Entrypoint entrypoint(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Sends this file's lines, each with the running MD5, to a TCP peer."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("host"), QStringLiteral("Peer address (default 127.0.0.1)."));
    parser.addPositionalArgument(QStringLiteral("port"), QStringLiteral("Peer port (default 2233)."));
    parser.addOption({ QStringLiteral("file"), QStringLiteral("File to send (default: this example's source)."),
                       QStringLiteral("path"), QStringLiteral(QTOFFLOAD_BLOCKCHAIN_SOURCE) });
    parser.process(*entrypoint.application());
    const QStringList args = parser.positionalArguments();
    const QString host = args.value(0, QStringLiteral("127.0.0.1"));
    const quint16 port = quint16(args.value(1, QStringLiteral("2233")).toUInt());
    return entrypoint.run(mainTask(host, port, parser.value(QStringLiteral("file"))));
}
