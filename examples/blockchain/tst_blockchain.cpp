// SPDX-License-Identifier: MIT
// Runs the blockchain example against a loopback server and checks every
// digest against an MD5 computed here, independently.
#include <QtCore/QCryptographicHash>
#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QtTest>

class tst_Blockchain : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testEveryDigestChainsAllLinesSoFar()
    {
        QTcpServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost));
        QByteArray received;
        bool disconnected = false;
        connect(&server, &QTcpServer::newConnection, this, [&] {
            QTcpSocket *peer = server.nextPendingConnection();
            connect(peer, &QTcpSocket::readyRead, this, [&received, peer] { received += peer->readAll(); });
            connect(peer, &QTcpSocket::disconnected, this, [&disconnected, &received, peer] {
                received += peer->readAll();
                disconnected = true;
            });
        });

        QProcess example;
        example.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        example.start(QStringLiteral(QTOFFLOAD_BLOCKCHAIN_BINARY),
                      { QStringLiteral("127.0.0.1"), QString::number(server.serverPort()) });
        QTRY_VERIFY_WITH_TIMEOUT(disconnected, 60000);
        QTRY_COMPARE_WITH_TIMEOUT(example.state(), QProcess::NotRunning, 60000);
        QCOMPARE(example.exitCode(), 0);

        QFile source(QStringLiteral(QTOFFLOAD_BLOCKCHAIN_SOURCE));
        QVERIFY(source.open(QIODevice::ReadOnly));
        QCryptographicHash md5(QCryptographicHash::Md5);
        QByteArray expected;
        int lines = 0;
        while (!source.atEnd()) {
            const QByteArray line = source.readLine();
            md5.addData(line);
            expected += md5.result().toHex() + '\t' + line;
            ++lines;
        }
        QVERIFY(lines > 10);
        QCOMPARE(received, expected);
        QCOMPARE(example.readAllStandardOutput().trimmed(), QByteArray("sent " + QByteArray::number(lines) + " lines"));
    }

    void testUnreachablePeerFailsCleanly()
    {
        QTcpServer closed;
        QVERIFY(closed.listen(QHostAddress::LocalHost));
        const quint16 port = closed.serverPort();
        closed.close(); // nobody listens there now
        QProcess example;
        example.start(QStringLiteral(QTOFFLOAD_BLOCKCHAIN_BINARY),
                      { QStringLiteral("127.0.0.1"), QString::number(port) });
        QVERIFY(example.waitForFinished(60000));
        QCOMPARE(example.exitCode(), 1);
        QVERIFY(example.readAllStandardError().contains("cannot connect"));
    }
};

QTEST_GUILESS_MAIN(tst_Blockchain)
#include "tst_blockchain.moc"
