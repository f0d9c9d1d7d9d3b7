// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/generator.h>

#include <QtCore/QAbstractListModel>
#include <QtCore/QPointer>

#include <deque>

namespace QtOffload {

/*!
  A list model that appends each chunk of a generator as a row and keeps at
  most the last maximumRows of them, so a ListView binds to a generator
  directly: `ListView { model: ChunkListModel { generator: backend.lines() } }`.

  Rows carry the chunk as the "chunk" role (and Qt::DisplayRole, "display").
  Chunks arrive through chunkReady, in delivery-lane turns, so the chunk
  type must be one a QVariant can carry. Setting another generator (or
  none) keeps the rows already there; clear() removes them.

  Ownership: a generator that the QML engine owns when it is set (what a
  Q_INVOKABLE returns with `release()` and no parent, which the garbage
  collector would delete, since a C++ property is no script reference)
  becomes the model's child. The model then keeps it for as long as it uses
  it and destroys it, closing its stream, when the model is destroyed or
  given another generator. Any other generator keeps its owner (its parent,
  or the C++ code that holds it). If the generator is destroyed before its stream ended, the model
  says so with a warning instead of stopping silently.
*/
class QTOFFLOAD_EXPORT ChunkListModel : public QAbstractListModel
{
    Q_OBJECT
    Q_PROPERTY(QtOffload::QtGenerator *generator READ generator WRITE setGenerator NOTIFY generatorChanged)
    Q_PROPERTY(int maximumRows READ maximumRows WRITE setMaximumRows NOTIFY maximumRowsChanged)
    Q_PROPERTY(int count READ count NOTIFY countChanged)

public:
    //! The chunk's role, named "chunk" in QML.
    enum Role { ChunkRole = Qt::UserRole + 1 };
    Q_ENUM(Role)

    //! What maximumRows starts at.
    static constexpr int DefaultMaximumRows = 1000;

    //! An empty model with no generator.
    explicit ChunkListModel(QObject *parent = nullptr);
    ~ChunkListModel() override;

    //! The generator whose chunks are appended, or null.
    QtGenerator *generator() const;
    /*!
      Starts appending \a generator's chunks; one the QML engine owns
      becomes the model's (see above). Null: stop appending.
    */
    void setGenerator(QtGenerator *generator);

    //! The most rows kept (DefaultMaximumRows at first).
    int maximumRows() const noexcept { return m_maximumRows; }
    /*!
      Keeps at most \a rows rows, dropping the oldest first. A value below 1
      is ignored with a warning (the property keeps its value).
    */
    void setMaximumRows(int rows);

    //! The number of rows.
    int count() const noexcept { return int(m_rows.size()); }

    //! count() for the root; 0 for any other parent.
    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    //! The chunk at \a index for ChunkRole and Qt::DisplayRole.
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    //! "chunk" and "display".
    QHash<int, QByteArray> roleNames() const override;

    //! Removes every row; the generator stays.
    Q_INVOKABLE void clear();

Q_SIGNALS:
    //! The generator property changed.
    void generatorChanged();
    //! The maximumRows property changed.
    void maximumRowsChanged(int rows);
    //! Rows were appended, dropped or cleared.
    void countChanged(int count);

private:
    void append(const QVariant &chunk);
    void trim();
    void disconnectGenerator();
    //! Stops following the generator, and destroys it if the model owns it.
    void releaseGenerator();
    void generatorDestroyed();

    QPointer<QtGenerator> m_generator;
    QMetaObject::Connection m_chunkConnection;
    QMetaObject::Connection m_destroyedConnection;
    QMetaObject::Connection m_finishedConnection;
    bool m_ownsGenerator = false;
    bool m_generatorDone = false;
    int m_maximumRows = DefaultMaximumRows;
    std::deque<QVariant> m_rows;
};

} // namespace QtOffload
