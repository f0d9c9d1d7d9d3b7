// SPDX-License-Identifier: MIT
#pragma once

#include <QtCore/QEventLoop>
#include <QtCore/QPointer>
#include <QtCore/QString>
#include <QtCore/QTimer>
#include <QtTest/QTest>

#include <qcoro/qcorotask.h>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <source_location>
#include <type_traits>
#include <variant>

/*!
  What await() throws once it has failed the test because its task did not
  finish in time. Not a std::exception on purpose: a QVERIFY_THROWS_EXCEPTION
  around await() must not mistake a hang for the exception it expects.
*/
struct AwaitTimedOut
{
    std::chrono::milliseconds timeout;
};

namespace supportDetail {

template<typename T> struct AwaitState
{
    std::optional<std::conditional_t<std::is_void_v<T>, std::monostate, T>> result;
    std::exception_ptr error;
    bool done = false;
    QPointer<QEventLoop> loop;
};

// A coroutine function, not a lambda: a coroutine lambda's captures die with the lambda.
// The state is shared, so a task that ends after await() gave up writes nowhere dangling.
template<typename T> QCoro::Task<> runInto(QCoro::Task<T> task, std::shared_ptr<AwaitState<T>> state)
{
    try {
        if constexpr (std::is_void_v<T>) {
            co_await std::move(task);
            state->result.emplace();
        } else {
            state->result.emplace(co_await std::move(task));
        }
    } catch (...) {
        state->error = std::current_exception();
    }
    state->done = true;
    if (state->loop)
        state->loop->quit();
}

} // namespace supportDetail

constexpr std::chrono::milliseconds defaultAwaitTimeout { 20000 };

/*!
  Runs \a task to its end in a local event loop and returns its result, or
  rethrows its exception. QCoro::waitFor() would keep its loop running forever
  when the task throws (QCoro 0.8) or never ends; this one fails the calling
  test after \a timeout instead, then throws AwaitTimedOut to leave it (Qt
  Test 6.4 reports that as an unhandled exception and ends the run: the
  failure is on record, and nothing hangs).
*/
template<typename T>
T await(QCoro::Task<T> task, std::chrono::milliseconds timeout = defaultAwaitTimeout,
        std::source_location where = std::source_location::current())
{
    auto state = std::make_shared<supportDetail::AwaitState<T>>();
    auto runner = supportDetail::runInto(std::move(task), state);
    if (!state->done) {
        QEventLoop loop;
        QTimer deadline;
        deadline.setSingleShot(true);
        QObject::connect(&deadline, &QTimer::timeout, &loop, &QEventLoop::quit);
        state->loop = &loop;
        deadline.start(timeout);
        loop.exec();
        state->loop = nullptr;
    }
    if (!state->done) {
        const QString message = QStringLiteral("the awaited task did not finish within %1 ms").arg(timeout.count());
        QTest::qFail(qPrintable(message), where.file_name(), int(where.line()));
        throw AwaitTimedOut { timeout };
    }
    if (state->error)
        std::rethrow_exception(state->error);
    if constexpr (std::is_void_v<T>)
        return;
    else
        return std::move(*state->result);
}
