#pragma once

#include <QDialog>

class EntryPicker;
class QDialogButtonBox;
class QLineEdit;
class ServiceBridge;
class StatusBanner;

// "New chain" on the Chains page: a name and the first entry (a chain needs one), created through
// ServiceBridge::upsertChain. A name that exists is refused here (saving would replace that chain); an error
// from the core is shown in the dialog, which stays open.
class NewChainDialog : public QDialog
{
    Q_OBJECT

public:
    NewChainDialog(ServiceBridge *bridge, QWidget *parent = nullptr);

    QString chainName() const { return m_created; }           // once accepted
    QString resultMessage() const { return m_resultMessage; } // the core's "Chain … added"

private:
    void create();

    ServiceBridge *m_bridge;
    StatusBanner *m_error;
    QLineEdit *m_name;
    EntryPicker *m_picker;
    QDialogButtonBox *m_buttons;
    QString m_created;
    QString m_resultMessage;
};
